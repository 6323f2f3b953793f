#pragma once
/// The recursive role's resolver threads (docs/recursion.md). Serving threads (UDP sockets, DPDK
/// workers) punt the requests the table cannot answer into their MissChannels; these threads
/// take them, resolve each handle with the engine (controlplane/recursion: coalescing and answer
/// caches), answer the client the way the request came, and hand positive answers
/// to the daemon to insert into the serving table, which then answers them on the hot path
/// until their TTL passes (a sweep erases them once a second).
///
/// Thread-safety: start(), stop() from the control thread; set_policy() and stats_json() from
/// any thread. The CachePort callbacks run on the service's maintenance
/// thread, never on a serving thread, and may block (they take the table's writer lock).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/app/cache_expiry.hpp"
#include "controlplane/recursion/recursor.hpp"
#include "dataplane/resolve/policy.hpp"
#include "controlplane/app/miss_channel.hpp"
#include "dataplane/querylog/query_log.hpp"
#include "dataplane/querylog/target.hpp"

namespace idpath::app {

/// One answer to keep in the serving table.
struct CacheEntry {
    std::string key; // table_key() of the handle
    std::uint32_t count = 0;
    std::vector<std::uint8_t> encoded; // the values, back to back
    std::uint64_t expires = 0;         // Unix seconds
};

/// What the service asks of the table's writer (the daemon), in batches: one lock and one
/// grace period per call.
struct CachePort {
    /// Upserts the entries; returns the keys actually inserted (a key the table holds from
    /// another source is left alone).
    std::function<std::vector<std::string>(const std::vector<CacheEntry>&)> insert;
    /// Erases keys it inserted; returns how many went.
    std::function<std::size_t(const std::vector<std::string>&)> erase;
};

struct RecursionServiceOptions {
    recursion::RecursionOptions engine;
    unsigned threads = 2;
    /// Answers held in the serving table at most; more are answered but not inserted.
    std::size_t max_cached = 1000000;
    /// Query log: one target per resolver thread (the log mirror's sources), each recording the
    /// answers that thread sent, action Resolved. Empty (or short): those threads log nothing.
    std::vector<querylog::Target> query_logs;
    /// Probe mode: one target per resolver thread (the probe writer's sources), each capturing
    /// the replies that thread sent to requests a serving thread's probe sampled. Empty (or
    /// short): those replies are not captured.
    std::vector<querylog::ProbeTarget> probes;
};

class RecursionService {
public:
    /// `channels` must outlive the service's threads (stop()).
    RecursionService(RecursionServiceOptions options, std::vector<MissChannel*> channels,
                     resolve::Policy policy, CachePort port);
    ~RecursionService();
    RecursionService(const RecursionService&) = delete;
    RecursionService& operator=(const RecursionService&) = delete;

    void start();
    /// Cancels the resolutions in flight (their clients get nothing: they retry elsewhere),
    /// joins every thread; the pending inserts are dropped. Idempotent; no start() after it.
    void stop();

    /// The policy replies are written with (a reload's).
    void set_policy(resolve::Policy policy);
    /// {"engine":{...},"resolved":N,"answered":N,...}
    std::string stats_json() const;
    /// Resolver thread `i`'s query-log counters (the log mirror's loss accounting).
    const querylog::QueryLogStats* query_log_stats(std::size_t i) const;
    /// Resolver thread `i`'s probe counters.
    const querylog::ProbeStats* probe_stats(std::size_t i) const;
    recursion::Recursor& engine() noexcept { return engine_; }

private:
    class Handler;
    void run_resolver(querylog::QueryLog& log, querylog::Probe& probe);
    void run_maintenance();
    /// The reply to one punted request, in `out`, and what the hot path's resolver made of it
    /// (`outcome`); empty for an unreadable one.
    ByteSpan answer(ByteSpan request, std::vector<std::uint8_t>& out, resolve::Outcome& outcome);

    RecursionServiceOptions options_;
    std::vector<MissChannel*> channels_;
    CachePort port_;
    recursion::Recursor engine_;

    mutable std::mutex policy_mutex_;
    std::shared_ptr<const resolve::Policy> policy_;

    std::vector<std::unique_ptr<querylog::QueryLog>> logs_; // one per resolver thread
    std::vector<std::unique_ptr<querylog::Probe>> probes_;  // one per resolver thread

    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;
    std::thread maintenance_;

    std::mutex pending_mutex_; // pending_, expiry_, wake_
    std::condition_variable wake_;
    std::vector<CacheEntry> pending_;
    CacheExpiry expiry_;

    struct Counters {
        std::atomic<std::uint64_t> resolved{0};    // misses taken from the rings
        std::atomic<std::uint64_t> answered{0};    // replies sent
        std::atomic<std::uint64_t> send_errors{0};
        std::atomic<std::uint64_t> unreadable{0};  // punted requests without a readable handle
        std::atomic<std::uint64_t> failed{0};      // resolutions that ended in RC_ERROR
        std::atomic<std::uint64_t> cached{0};      // answers inserted into the serving table
        std::atomic<std::uint64_t> expired{0};     // erased from it when their TTL passed
        std::atomic<std::uint64_t> cache_full{0};  // not inserted: max_cached reached
        std::atomic<std::uint64_t> in_table{0};    // inserted and not yet erased
    } counters_;
};

} // namespace idpath::app
