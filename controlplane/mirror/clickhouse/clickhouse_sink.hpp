#pragma once
/// The ClickHouse sink: each batch is one HTTP POST `INSERT INTO <database>.<table> FORMAT
/// JSONEachRow` of its records (and one into the events table when it has events), on a
/// keep-alive connection, into the tables of configs/clickhouse/idpath_log.sql
/// (docs/log-clickhouse.md). A refused or failed insert is an Err with ClickHouse's message:
/// the runner spools the batch and replays it once ready() says the backoff is over.
///
/// Duplicates: an HTTP insert is not idempotent. When the answer is lost after the server
/// committed (a timeout), the replayed batch is inserted again. The tables are
/// ReplacingMergeTree keyed by each row's identity (time, node, source, kind, seq, time_ns), so
/// such copies collapse when parts merge; queries that must be exact before then use FINAL or
/// count distinct seq (configs/clickhouse/queries.sql).
///
/// Retention: tick() drops, at start and then daily, every monthly partition whose days are all
/// older than retention_days: ClickHouse 18.16 (Debian 12) has no TTL. On a server with TTL,
/// set retention_days to 0 and use the TTL clause shown in idpath_log.sql instead.

#include <chrono>
#include <memory>
#include <string>

#include "controlplane/mirror/clickhouse/http_client.hpp"
#include "controlplane/mirror/core/sink.hpp"

namespace idpath::mirror {

struct ClickHouseSinkOptions {
    std::string url = "http://127.0.0.1:8123/"; // the HTTP interface (https:// for TLS)
    std::string database = "idpath";
    std::string table = "records";       // queries and heartbeats
    std::string events_table = "events"; // control-plane events
    std::string user;                    // empty: the server's default user
    std::string password;
    unsigned timeout_ms = 10000;         // connect and each request
    unsigned retention_days = 183;       // 0: drop nothing
    unsigned backoff_min_ms = 500;       // ready() false this long after a failure,
    unsigned backoff_max_ms = 30000;     // doubling per further failure up to this
};

class ClickHouseSink final : public Sink {
public:
    ClickHouseSink(const ClickHouseSinkOptions& options, const Origin& origin,
                   std::unique_ptr<clickhouse::HttpClient> http);

    std::string kind() const override { return "clickhouse"; }
    Result<void, std::string> deliver(const Batch& batch) override;
    /// Runs the retention job when due (at the first tick, then every 24 h; an hour after a
    /// failed run) and the server is not in backoff.
    void tick() override;
    bool ready() override;

    /// Drops the partitions of both tables whose month is expired on `today` (UTC). Ok: how
    /// many were dropped. Public so operators' tools and tests can run it on demand.
    Result<unsigned, std::string> expire(std::chrono::sys_days today);

private:
    Result<void, std::string> failed(std::string error);
    Result<unsigned, std::string> expire_table(const std::string& table, std::chrono::sys_days today);

    using Clock = std::chrono::steady_clock;

    ClickHouseSinkOptions options_;
    Origin origin_;
    std::unique_ptr<clickhouse::HttpClient> http_;
    std::string insert_records_; // "INSERT INTO db.records FORMAT JSONEachRow"
    std::string insert_events_;
    std::string rows_;           // the batch's rows, reused
    std::chrono::milliseconds backoff_{0};
    Clock::time_point retry_at_{};
    Clock::time_point retention_due_{};
};

/// Checks the options (URL scheme, identifiers that go into SQL, timeouts) and makes the sink;
/// it contacts nobody: a server that is down at start makes the first deliver() fail and spool.
Result<std::unique_ptr<Sink>, std::string> make_clickhouse_sink(const ClickHouseSinkOptions& options,
                                                                const Origin& origin);

} // namespace idpath::mirror
