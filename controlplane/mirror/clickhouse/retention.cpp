#include "controlplane/mirror/clickhouse/retention.hpp"

#include <charconv>

namespace idpath::mirror::clickhouse {

std::optional<std::chrono::year_month> partition_month(std::string_view partition) noexcept
{
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(partition.data(), partition.data() + partition.size(), v);
    if (partition.size() != 6 || ec != std::errc{} || end != partition.data() + partition.size())
        return std::nullopt;
    const std::chrono::year_month ym{std::chrono::year{static_cast<int>(v / 100)}, std::chrono::month{v % 100}};
    if (!ym.ok())
        return std::nullopt;
    return ym;
}

bool month_expired(std::chrono::year_month month, std::chrono::sys_days today, unsigned retention_days) noexcept
{
    using namespace std::chrono;
    if (retention_days == 0 || !month.ok())
        return false;
    const sys_days cutoff = today - days{retention_days};
    const sys_days next_month_first{(month + months{1}) / day{1}};
    return next_month_first <= cutoff;
}

} // namespace idpath::mirror::clickhouse
