#pragma once
/// Matches answers to the queries of one socket by RequestId, reassembles multi-datagram answers
/// and sorts every query into exactly one outcome: answered, lost (timed out) or rejected (its
/// answer was malformed or answered something else). Datagrams that fit no query in flight are
/// counted as late, duplicate, wrong or malformed.
///
/// RequestIds are issued in sequence from a per-socket start and map to slots by their low bits;
/// a slot still in flight is skipped, so no two queries in flight share a slot and an answer is
/// matched with one array access. The slot table has at least twice `limit` entries, so a slot
/// is reused only after several rounds and a late answer is usually still recognised as one.
///
/// Thread-safety: one matcher per socket, used by that socket's thread. Hot path: issue(),
/// on_datagram() and expire() never allocate, except for the first few multi-datagram answers
/// (a bounded pool of reassembly buffers, kept for reuse).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"
#include "perf/gun/family.hpp"
#include "perf/gun/gun_stats.hpp"
#include "perf/gun/query_gen.hpp"

namespace idpath::gun {

struct MatcherConfig {
    std::uint32_t limit = 64;               // most queries in flight at once
    std::uint64_t timeout_ns = 1'000'000'000; // an answer later than this counts as lost
    std::uint32_t first_id = 1;             // RequestId of the first query
    FamilyMix family = FamilyMix::None;     // which family each query goes over, for the
                                            // per-family counters of an IPv4/IPv6 mix
};

class Matcher {
public:
    /// Largest answer followed, in datagrams (a bitmap per query); larger ones are malformed.
    static constexpr std::uint32_t kMaxDatagrams = 64;
    /// Multi-datagram answers reassembled at once; beyond that, answers are counted from their
    /// datagrams and first header only (the body is not checked).
    static constexpr std::size_t kMaxReassemblyBuffers = 256;
    /// Largest slot table (limit is clamped to half of it).
    static constexpr std::uint32_t kMaxSlots = 1u << 21;

    /// `generator` rebuilds each query's handle to check its answer; it and `stats` must outlive
    /// the matcher.
    Matcher(const MatcherConfig& config, const QueryGenerator& generator, WorkerStats& stats);

    std::uint32_t limit() const noexcept { return limit_; }
    std::uint32_t outstanding() const noexcept { return outstanding_; }
    bool full() const noexcept { return outstanding_ >= limit_; }
    /// Whether outcomes are counted per family, and the family of query `request_id`.
    bool counts_families() const noexcept { return family_ != FamilyMix::None; }
    bool is_ipv6(std::uint32_t request_id) const noexcept { return query_is_ipv6(family_, request_id); }

    /// Records a query about to be sent at `now_ns`; returns its RequestId. Requires !full().
    std::uint32_t issue(const QuerySpec& q, std::uint64_t now_ns) noexcept;
    /// Forgets a query issued but never sent (the kernel refused it).
    void cancel(std::uint32_t request_id) noexcept;

    /// One UDP datagram, or one TCP frame (envelope and whole message), received at `now_ns`.
    void on_datagram(ByteSpan datagram, std::uint64_t now_ns) noexcept;

    /// Counts queries older than the timeout as lost. Amortised O(1) per query.
    void expire(std::uint64_t now_ns) noexcept;
    /// Counts every query still in flight as lost (end of run, or a TCP connection gone).
    void expire_all() noexcept;

private:
    enum class State : std::uint8_t { Free, InFlight, Done, Expired };
    static constexpr std::uint16_t kNoBuffer = 0xffff;

    struct Slot {
        std::uint64_t sent_ns = 0;
        std::uint64_t chunks = 0; // bit k: datagram k received
        QuerySpec query;
        std::uint32_t id = 0;
        std::uint32_t message_length = 0;
        std::uint32_t response_code = 0; // from datagram 0, for answers not reassembled
        std::uint16_t buffer = kNoBuffer;
        State state = State::Free;
    };

    Slot& slot_of(std::uint32_t id) noexcept { return slots_[id & mask_]; }
    /// True when `id` was issued on this socket (it may since have been cancelled).
    bool was_issued(std::uint32_t id) const noexcept;
    void on_chunk(Slot& s, std::uint32_t sequence, std::uint32_t message_length, ByteSpan payload,
                  std::uint64_t now_ns) noexcept;
    void complete(Slot& s, ByteSpan message, std::uint64_t now_ns) noexcept;
    void finish(Slot& s, State state) noexcept;
    /// Counts the outcome (answered, lost, rejected) of the query in `s`, and per family.
    void outcome(const Slot& s, Stat what, FamilyStat per_family) noexcept;
    std::uint16_t take_buffer() noexcept;
    std::uint8_t* buffer(std::uint16_t b) noexcept { return buffers_[b].get(); }

    const QueryGenerator& generator_;
    WorkerStats& stats_;
    std::vector<Slot> slots_;
    std::uint32_t mask_;
    std::uint32_t limit_;
    std::uint64_t timeout_ns_;
    FamilyMix family_;
    std::uint32_t next_id_;
    std::uint32_t oldest_; // no query issued before this one is in flight
    std::uint64_t issued_ = 0; // RequestIds consumed, skipped ones included
    std::uint32_t outstanding_ = 0;
    std::vector<std::unique_ptr<std::uint8_t[]>> buffers_;
    std::vector<std::uint16_t> free_buffers_;
};

} // namespace idpath::gun
