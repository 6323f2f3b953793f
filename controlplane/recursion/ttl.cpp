#include "controlplane/recursion/ttl.hpp"

#include <algorithm>

namespace idpath::recursion {

std::uint32_t value_ttl(const wire::HandleValue& v, std::uint64_t now,
                        std::uint32_t max_ttl) noexcept
{
    std::uint64_t ttl = v.ttl;
    if (v.ttl_type == wire::TtlType::Absolute)
        ttl = v.ttl > now ? v.ttl - now : 0;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(ttl, max_ttl));
}

std::uint32_t answer_ttl(std::span<const wire::HandleValue> values, std::uint64_t now,
                         std::uint32_t max_ttl) noexcept
{
    if (values.empty())
        return 0;
    std::uint32_t ttl = max_ttl;
    for (const wire::HandleValue& v : values)
        ttl = std::min(ttl, value_ttl(v, now, max_ttl));
    return ttl;
}

} // namespace idpath::recursion
