#pragma once
/// Six-month retention on servers without TTL (ClickHouse 18.16, Debian 12): the tables are
/// partitioned by month (toYYYYMM(date), UTC), and a month is dropped whole once every day of
/// it is older than the retention. So rows live at least `retention_days`, and at most about a
/// month more. Pure calendar arithmetic, kept apart from the HTTP calls so it is tested alone.

#include <chrono>
#include <optional>
#include <string_view>

namespace idpath::mirror::clickhouse {

/// The month a partition holds, from its name in system.parts ("202605"); nullopt for a name
/// that is not a YYYYMM month (a table partitioned otherwise is left alone).
std::optional<std::chrono::year_month> partition_month(std::string_view partition) noexcept;

/// Whether every day of `month` is older than `retention_days` on `today` (UTC): its last day
/// is before `today - retention_days`. Never true when `retention_days` is 0 (keep forever).
bool month_expired(std::chrono::year_month month, std::chrono::sys_days today, unsigned retention_days) noexcept;

} // namespace idpath::mirror::clickhouse
