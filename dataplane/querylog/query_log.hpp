#pragma once
/// One serving thread's side of the log mirror: fills Records in place in its own ring, never
/// blocking. A full ring loses the record, counted, and its sequence number still advances so
/// the gap shows downstream. A heartbeat every `heartbeat_ns` carries the cumulative counts.
///
/// Use per burst: for each query, `Record* r = log.begin_query(rx_ns)` (null: not logged) and
/// fill it (fill.hpp); after the burst's replies are handed to the transport,
/// `log.end_burst(now_ns)` stamps every record's latency and publishes them with one store.
/// A QueryLog without a ring (the mirror off) does nothing and costs one branch per query.

#include <cstdint>

#include "dataplane/base/counter.hpp"
#include "dataplane/querylog/record.hpp"
#include "dataplane/querylog/spsc_ring.hpp"

namespace idpath::querylog {

using Ring = SpscRing<Record>;

struct alignas(kCacheLine) QueryLogStats {
    Counter produced; // records produced (queries and heartbeats), lost ones included
    Counter lost;     // records lost: the ring was full
};

class QueryLog {
public:
    static constexpr std::uint64_t kDefaultHeartbeatNs = 5'000'000'000ull;

    QueryLog() = default;
    QueryLog(Ring* ring, std::uint16_t source, std::uint64_t heartbeat_ns = kDefaultHeartbeatNs)
        : ring_(ring), source_(source), heartbeat_ns_(heartbeat_ns)
    {
    }

    bool enabled() const noexcept { return ring_ != nullptr; }

    /// A zeroed slot for one query received at `rx_ns` (its seq, time, source and kind set), or
    /// null when the mirror is off or the ring is full (then counted as lost).
    Record* begin_query(std::uint64_t rx_ns) noexcept
    {
        if (ring_ == nullptr)
            return nullptr;
        Record* r = next(rx_ns);
        if (r != nullptr)
            r->kind = Kind::Query;
        return r;
    }

    /// Stamps the records begun since the last call with latency `now_ns - time_ns` (those
    /// with a reply: response_bytes > 0), publishes them, and writes a heartbeat when one is
    /// due. Call once per burst, after the transport took the replies.
    void end_burst(std::uint64_t now_ns) noexcept
    {
        if (ring_ == nullptr)
            return;
        const std::size_t n = ring_->unpublished();
        for (std::size_t i = 0; i < n; ++i) {
            Record& r = ring_->unpublished_at(i);
            if (r.kind == Kind::Query && r.response_bytes > 0 && now_ns > r.time_ns)
                r.latency_ns = static_cast<std::uint32_t>(
                    now_ns - r.time_ns > 0xffffffffull ? 0xffffffffull : now_ns - r.time_ns);
        }
        if (now_ns >= next_heartbeat_ns_)
            heartbeat(now_ns);
        if (n > 0 || ring_->unpublished() > 0)
            ring_->publish();
    }

    /// Writes a heartbeat now (also done by end_burst() when due), unpublished until the next
    /// end_burst() or publish(). Idle threads call poll_idle() instead.
    void heartbeat(std::uint64_t now_ns) noexcept
    {
        if (ring_ == nullptr)
            return;
        next_heartbeat_ns_ = now_ns + heartbeat_ns_;
        Record* r = next(now_ns);
        if (r == nullptr)
            return;
        r->kind = Kind::Heartbeat;
        set_heartbeat_body(*r, {stats_.produced.get(), stats_.lost.get()});
    }

    /// For a thread with nothing received: emits and publishes a heartbeat when one is due.
    void poll_idle(std::uint64_t now_ns) noexcept
    {
        if (ring_ != nullptr && now_ns >= next_heartbeat_ns_)
            end_burst(now_ns);
    }

    const QueryLogStats& stats() const noexcept { return stats_; }
    std::uint16_t source() const noexcept { return source_; }

private:
    Record* next(std::uint64_t time_ns) noexcept
    {
        stats_.produced.add();
        const std::uint64_t seq = ++seq_;
        Record* r = ring_->claim();
        if (r == nullptr) {
            stats_.lost.add();
            return nullptr;
        }
        *r = Record{};
        r->seq = seq;
        r->time_ns = time_ns;
        r->source = source_;
        return r;
    }

    Ring* ring_ = nullptr;
    std::uint16_t source_ = 0;
    std::uint64_t heartbeat_ns_ = kDefaultHeartbeatNs;
    std::uint64_t next_heartbeat_ns_ = 0; // the first burst writes one: the source announces itself
    std::uint64_t seq_ = 0;
    QueryLogStats stats_;
};

} // namespace idpath::querylog
