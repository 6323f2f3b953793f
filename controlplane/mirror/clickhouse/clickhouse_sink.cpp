#include "controlplane/mirror/clickhouse/clickhouse_sink.hpp"

#include <algorithm>
#include <string_view>

#include "controlplane/mirror/clickhouse/clickhouse_rows.hpp"
#include "controlplane/mirror/clickhouse/retention.hpp"

namespace idpath::mirror {

namespace {

constexpr auto kRetentionEvery = std::chrono::hours(24);
constexpr auto kRetentionRetry = std::chrono::hours(1);

/// A plain identifier ([A-Za-z_][A-Za-z0-9_]*): database and table names are spliced into SQL.
bool identifier(std::string_view s) noexcept
{
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (s.empty() || !alpha(s[0]))
        return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

} // namespace

ClickHouseSink::ClickHouseSink(const ClickHouseSinkOptions& options, const Origin& origin,
                               std::unique_ptr<clickhouse::HttpClient> http)
    : options_(options),
      origin_(origin),
      http_(std::move(http)),
      insert_records_("INSERT INTO " + options.database + "." + options.table + " FORMAT JSONEachRow"),
      insert_events_("INSERT INTO " + options.database + "." + options.events_table + " FORMAT JSONEachRow")
{
}

Result<void, std::string> ClickHouseSink::deliver(const Batch& batch)
{
    // Records first: a batch whose records went in but whose events failed is replayed whole,
    // and its records' copies collapse (see the header); events are the rarer part.
    if (!batch.records.empty()) {
        rows_.clear();
        clickhouse::encode_record_rows(batch, origin_, rows_);
        if (auto r = http_->post(insert_records_, rows_); !r)
            return failed(r.error());
    }
    if (!batch.events.empty()) {
        rows_.clear();
        clickhouse::encode_event_rows(batch, origin_, rows_);
        if (auto r = http_->post(insert_events_, rows_); !r)
            return failed(r.error());
    }
    backoff_ = std::chrono::milliseconds(0);
    return {};
}

Result<void, std::string> ClickHouseSink::failed(std::string error)
{
    const std::chrono::milliseconds min(options_.backoff_min_ms);
    const std::chrono::milliseconds max(std::max(options_.backoff_max_ms, options_.backoff_min_ms));
    backoff_ = backoff_.count() == 0 ? min : std::min(backoff_ * 2, max);
    retry_at_ = Clock::now() + backoff_;
    return Err(std::move(error));
}

bool ClickHouseSink::ready()
{
    return Clock::now() >= retry_at_;
}

void ClickHouseSink::tick()
{
    if (options_.retention_days == 0)
        return;
    const auto now = Clock::now();
    if (now < retention_due_ || !ready())
        return;
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    retention_due_ = now + (expire(today) ? kRetentionEvery : kRetentionRetry);
}

Result<unsigned, std::string> ClickHouseSink::expire(std::chrono::sys_days today)
{
    auto records = expire_table(options_.table, today);
    if (!records)
        return records;
    auto events = expire_table(options_.events_table, today);
    if (!events)
        return events;
    return *records + *events;
}

Result<unsigned, std::string> ClickHouseSink::expire_table(const std::string& table, std::chrono::sys_days today)
{
    auto parts = http_->post({}, "SELECT DISTINCT partition FROM system.parts WHERE active AND database = '" +
                                     options_.database + "' AND table = '" + table + "' FORMAT TabSeparated");
    if (!parts)
        return Err(parts.error());
    unsigned dropped = 0;
    std::string_view rest = *parts;
    while (!rest.empty()) {
        const std::size_t eol = rest.find('\n');
        const std::string_view name = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
        const auto month = clickhouse::partition_month(name);
        if (!month || !clickhouse::month_expired(*month, today, options_.retention_days))
            continue;
        auto r = http_->post({}, "ALTER TABLE " + options_.database + "." + table + " DROP PARTITION " +
                                     std::string(name));
        if (!r)
            return Err(r.error());
        ++dropped;
    }
    return dropped;
}

Result<std::unique_ptr<Sink>, std::string> make_clickhouse_sink(const ClickHouseSinkOptions& options,
                                                                const Origin& origin)
{
    const std::string_view url = options.url;
    if (!url.starts_with("http://") && !url.starts_with("https://"))
        return Err("mirror.clickhouse.url must be http:// or https://, not '" + options.url + "'");
    for (const std::string* name : {&options.database, &options.table, &options.events_table})
        if (!identifier(*name))
            return Err("ClickHouse database and table names must be plain identifiers, not '" + *name + "'");
    if (options.timeout_ms == 0)
        return Err(std::string("ClickHouse timeout must be positive"));
    auto http = clickhouse::HttpClient::make({options.url, options.user, options.password, options.timeout_ms});
    if (!http)
        return Err(http.error());
    return std::unique_ptr<Sink>(std::make_unique<ClickHouseSink>(options, origin, std::move(*http)));
}

} // namespace idpath::mirror
