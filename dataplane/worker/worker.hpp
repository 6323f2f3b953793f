#pragma once
/// The run loop of one lcore (DESIGN.md section 3): receive a burst, classify each frame, answer
/// Handle requests, ARP, neighbour solicitations and pings in place, transmit every reply of the
/// burst with one tx_burst, and free the rest, counting why.
///
/// Exception path (optional, docs/packet-path.md): on a port the kernel does not see (a PCI NIC
/// DPDK owns, a tap), frames the kernel may want (verdicts Other and NotForUs: TCP to our
/// addresses, ARP replies, router advertisements, multicast, UDP to other ports) go out of an
/// exception port (a net_tap to the kernel) instead of being freed, and what the kernel sends
/// back comes in on it and leaves by the main port unchanged. Fragment and Malformed frames are
/// still dropped: see Worker's constructor.
///
/// Checksums (docs/packet-path.md "Checksums"): a frame the port's NIC found a bad checksum in
/// (PacketRef::rx_checksums) is counted Malformed and dropped unparsed, one it found good is not
/// verified again; UDP replies leave their checksums to the NIC when the port says it completes
/// them (tx_checksum_offload(port), read once at construction), and are final otherwise.
///
/// Query log (optional, dataplane/querylog): every Handle request the burst completed, answered
/// or silenced, gets one record, written in place in the thread's ring while the burst is
/// answered and published by one store after it is transmitted, its latency stamped then.
///
/// Probe (optional, dataplane/querylog/probe.hpp): a sampled Handle request's frame is copied
/// as received, before the reply is written over it, and each of its reply frames as staged
/// (with Offload checksums, the NIC completes them after the copy), published after the burst.
///
/// Recursive role (optional, punt.hpp): a miss with REC set goes to the resolver threads through
/// the worker's outbox, and their reply frames come back through its inbox, transmitted first
/// thing in every poll, in the lcore's own buffers and on its own queue.
///
/// Thread-safety: one Worker per lcore, driving its own Port queue; nothing is shared but the
/// table (read-only), the counters (single writer, read by any thread) and the query log (one
/// per lcore, shared by that lcore's Workers only).
/// Hot path: poll_once() never allocates, locks, makes syscalls or throws (the Responder's
/// bounded reassembler, for the rare multi-datagram request, is the one exception it allows).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <optional>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/packet/reply.hpp"
#include "dataplane/querylog/fill.hpp"
#include "dataplane/querylog/probe.hpp"
#include "dataplane/querylog/query_log.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/responder.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/reassembly.hpp"
#include "dataplane/wire/resolution.hpp"
#include "dataplane/worker/port.hpp"
#include "dataplane/worker/punt.hpp"

namespace idpath::worker {

/// Datagrams of one answer the TX staging array has room for. Policy::max_udp_datagrams caps
/// answers first (default 8); an answer above this is dropped as too_many_datagrams.
inline constexpr std::size_t kMaxDatagramsPerAnswer = 16;

/// CLOCK_REALTIME nanoseconds, for the query log (querylog::realtime_ns in a driver, a fake in
/// tests): the Worker reads no clock of its own.
using RealtimeClock = std::uint64_t (*)() noexcept;

/// Per-worker counters: written by the worker, read by the admin thread.
struct alignas(kCacheLine) WorkerStats {
    Counter rx;                 // frames received
    Counter tx;                 // frames the port accepted (every datagram counts)
    Counter tx_dropped;         // replies the port refused, freed
    Counter dropped;            // received frames freed without a reply, for any reason
    Counter unanswered;         // Handle requests left silent (or partial multi-datagram)
    Counter alloc_failed;       // multi-datagram answers dropped: no buffers for the rest
    Counter oversize;           // replies that did not fit their buffer
    Counter too_many_datagrams; // answers over kMaxDatagramsPerAnswer
    Counter exception_out;         // frames the exception port accepted (to the kernel)
    Counter exception_out_dropped; // frames for the kernel the exception port refused, freed
    Counter exception_in;          // kernel frames the main port accepted (from the kernel)
    Counter exception_in_dropped;  // kernel frames the main port refused, freed
    Counter punt_tx;               // resolver threads' reply frames the port accepted
    Counter punt_tx_dropped;       // ... refused by the port, or larger than its buffers
    packet::PacketStats packets;
    resolve::ResolveStats answers;
};

namespace detail {

/// The in-place reply to an ARP request, NS, ICMP or ICMPv6 echo request; 0 when the verdict is
/// none of those or the reply does not fit `buffer`.
std::size_t write_local_reply(MutableByteSpan buffer, const packet::PacketView& view,
                              const packet::PacketConfig& config) noexcept;

/// True for the verdicts write_local_reply answers.
bool is_local_service(packet::Verdict v) noexcept;

/// Datagram 0 of the responder's last UDP reply, written over the request frame in `buffer`
/// (the HandleRequest `view` classified), its checksums computed (Software, the default) or
/// left to the NIC (Offload).
/// Returns the frame length, or 0 if it does not fit.
std::size_t write_first_datagram(MutableByteSpan buffer, const packet::PacketView& view,
                                 const resolve::Responder& responder, std::uint16_t ipv4_id,
                                 packet::ChecksumMode mode = {}) noexcept;

/// Datagram k >= 1 of the responder's last UDP reply, into the fresh buffer `out`, with the
/// L2 headers of `first_reply` (what write_first_datagram built). 0 if it does not fit.
std::size_t write_next_datagram(MutableByteSpan out, ByteSpan first_reply,
                                const packet::PacketView& view,
                                const resolve::Responder& responder, std::uint32_t k,
                                std::uint16_t ipv4_id, packet::ChecksumMode mode = {}) noexcept;

/// Verdicts the exception path hands to the kernel when the worker has one: well-formed
/// traffic we do not serve, which the host's own stack may (see Worker's constructor).
constexpr bool for_kernel(packet::Verdict v) noexcept
{
    return v == packet::Verdict::Other || v == packet::Verdict::NotForUs;
}

} // namespace detail

/// One lcore's loop over one Port queue. `port` and `policy` must outlive the Worker.
/// Construction allocates (the Responder's reply buffer); poll_once() does not.
template <Port P>
class Worker {
public:
    /// `exception`, when not null, is the queue to the kernel (net_tap) and must outlive the
    /// Worker; null frees and counts what we do not serve. Other and NotForUs frames go to it;
    /// Malformed ones never do (the kernel would drop them too, and passing them would let
    /// anyone load the slow tap path with garbage), nor do fragments: DESIGN.md section 3
    /// drops them, a non-first fragment cannot be told apart from one of a UDP/2641 datagram
    /// without reassembly, a fragment flood would land in the kernel's reassembly queues, and
    /// what the kernel serves here (TCP, ARP, NDP) does not fragment.
    ///
    /// Buffers cross between the two ports by ownership transfer, with no copy: a buffer
    /// received on either port may be transmitted on the other, and one the other refuses is
    /// freed on the port that received it. So both ports must share a buffer pool (one
    /// rte_mempool for both DPDK ports; MemPort::sharing_pool_of in tests).
    Worker(P& port, const packet::PacketConfig& config, resolve::PolicyRef policy,
           wire::ReassemblyLimits limits = {}, P* exception = nullptr)
        : port_(port), exception_(exception), config_(config),
          responder_(policy, stats_.answers, limits),
          checksum_mode_(tx_checksum_offload(port) ? packet::ChecksumMode::Offload
                                                   : packet::ChecksumMode::Software)
    {
    }

    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Receives at most one burst (kBurstSize frames), answers it against `table` and transmits
    /// the replies. `now_unix` stamps answers; `now_ms` (monotonic) times reassembly. With an
    /// exception port, also forwards at most one burst from the kernel first and passes this
    /// burst's frames for the kernel to it after the replies, with one tx_burst each way.
    /// Returns the frames received on both ports (0: both queues were empty).
    std::size_t poll_once(const table::Table& table, std::uint32_t now_unix,
                          std::uint64_t now_ms) noexcept
    {
        const std::size_t from_kernel = exception_ != nullptr ? forward_from_kernel() : 0;
        const std::size_t resolved = punt_ != nullptr ? transmit_resolved() : 0;
        const std::size_t n = port_.rx_burst(rx_);
        if (n == 0) {
            if (log_ != nullptr)
                log_->poll_idle(clock_());
            return from_kernel + resolved;
        }
        if (log_ != nullptr || probe_ != nullptr)
            rx_ns_ = clock_();
        stats_.rx.add(n);
        tx_count_ = 0;
        drop_count_ = 0;
        kernel_count_ = 0;
        punted_count_ = 0;
        // Three passes over the burst (DESIGN.md section 3): classify every frame, then look
        // up every query's handle at once so the table's cache misses overlap instead of
        // queueing one per packet, then answer from warm cache lines.
        for (std::size_t i = 0; i < n; ++i) {
            // Classification touches the first cache line of every frame: fetch the next one
            // while this one is classified.
            if (i + 1 < n)
                __builtin_prefetch(rx_[i + 1].data);
            views_[i] = packet::classify({rx_[i].data, rx_[i].length}, config_,
                                         rx_[i].rx_checksums);
            stats_.packets.count(views_[i]);
        }
        warm_table(table, n);
        for (std::size_t i = 0; i < n; ++i)
            handle(rx_[i], views_[i], table, now_unix, now_ms);
        transmit();
        if (log_ != nullptr || probe_ != nullptr) {
            const std::uint64_t now = clock_();
            if (log_ != nullptr)
                log_->end_burst(now);
            if (probe_ != nullptr)
                probe_->end_burst(now);
        }
        pass_to_kernel();
        if (punted_count_ > 0)
            punt_->misses.push();
        if (drop_count_ > 0) {
            // A punted request's buffer is freed too, but it is not dropped: its copy is answered.
            stats_.dropped.add(drop_count_ - punted_count_);
            port_.free({drop_.data(), drop_count_});
        }
        return n + from_kernel + resolved;
    }

    /// Whether ARP requests, neighbour solicitations and echo requests for our addresses are
    /// answered here (the default). Off where the kernel shares the NIC and answers them itself
    /// (AF_XDP passes them to it, AF_PACKET shows it every frame): two answers would race. They
    /// are then dropped, or handed to the exception port if there is one.
    void set_answer_local(bool on) noexcept { answer_local_ = on; }

    /// Logs every Handle request to `log` from now on, with times from `clock`, read twice per
    /// received burst (when it arrives, after its replies are transmitted) and once per empty
    /// poll (for the heartbeat). Null (the default): nothing logged, one branch per burst and
    /// per request. Several Workers polled by one thread may share its `log`, which must
    /// outlive them.
    void set_query_log(querylog::QueryLog* log, RealtimeClock clock) noexcept
    {
        log_ = log != nullptr && clock != nullptr && log->enabled() ? log : nullptr;
        if (clock != nullptr) // the probe may be reading it
            clock_ = clock;
    }

    /// Copies sampled Handle requests and their replies to `probe` from now on, with times from
    /// `clock` (read as for the query log). Null (the default): nothing captured, one branch per
    /// burst and per request. Like the query log, several Workers of a thread may share it.
    void set_probe(querylog::Probe* probe, RealtimeClock clock) noexcept
    {
        probe_ = probe != nullptr && clock != nullptr && probe->enabled() ? probe : nullptr;
        if (probe_ != nullptr)
            clock_ = clock;
    }

    /// Recursive role: misses with REC set go to `queues` (which must outlive the Worker) from
    /// now on, and the replies found there are transmitted. Null (the default): every request is
    /// answered from the table.
    void set_punt(PuntQueues* queues) noexcept
    {
        punt_ = queues;
        responder_.set_can_punt(queues != nullptr);
    }

    /// Drops partial multi-datagram requests older than the reassembly timeout.
    void expire(std::uint64_t now_ms) { responder_.expire(now_ms); }

    const WorkerStats& stats() const noexcept { return stats_; }
    const resolve::Responder& responder() const noexcept { return responder_; }

private:
    /// Looks up the handle of every one-datagram RESOLUTION request of the burst with
    /// Table::find_burst, for its side effect: the buckets and records the answers read next
    /// are then in cache. The results are not kept; resolve() finds them again, cheaply.
    void warm_table(const table::Table& table, std::size_t n) noexcept
    {
        // A table that fits the last-level cache has nothing to overlap: the second lookup
        // would only cost (about 6 % at 1 k identifiers, perf/micro BM_WorkerPoll).
        if (table.memory_bytes() < kWarmTablesAbove)
            return;
        std::size_t k = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (views_[i].verdict != packet::Verdict::HandleRequest)
                continue;
            const ByteSpan handle = wire::peek_resolution_handle(views_[i].payload);
            if (handle.empty() || handle.size() > kWarmKeyMax)
                continue; // long handles are rare; they simply miss the overlap
            keys_[k] = table::normalize_into(handle, warm_keys_[k]);
            ++k;
        }
        if (k > 1)
            table.find_burst({keys_.data(), k}, {found_.data(), k});
    }

    void handle(PacketRef& ref, const packet::PacketView& view, const table::Table& table,
                std::uint32_t now_unix, std::uint64_t now_ms) noexcept
    {
        if (view.verdict == packet::Verdict::HandleRequest) {
            answer(ref, view, table, now_unix, now_ms);
            return;
        }
        const bool local = detail::is_local_service(view.verdict);
        if (exception_ != nullptr &&
            (detail::for_kernel(view.verdict) || (local && !answer_local_))) {
            to_kernel_[kernel_count_++] = ref;
            return;
        }
        if (!local || !answer_local_) {
            drop(ref);
            return;
        }
        const std::size_t len = detail::write_local_reply({ref.data, ref.capacity}, view, config_);
        if (len == 0) {
            stats_.oversize.add();
            drop(ref);
            return;
        }
        ref.length = static_cast<std::uint16_t>(len);
        tx_[tx_count_++] = ref;
    }

    void answer(PacketRef& ref, const packet::PacketView& view, const table::Table& table,
                std::uint32_t now_unix, std::uint64_t now_ms) noexcept
    {
        const wire::SourceKey src{view.src_addr, view.src_port};
        // Copied before anything else: the reply is written over the request.
        const bool probed = probe_ != nullptr && probe_->sample();
        if (probed)
            probe_->capture(rx_ns_, querylog::ProbeDirection::Request, querylog::ProbeLink::Ethernet,
                            {ref.data, ref.length});
        const auto reply = responder_.on_udp(table, src, view.payload, now_unix, now_ms);
        // Logged before staging: the reply is written over the request, handle included.
        querylog::Record* logged = nullptr;
        if (log_ != nullptr && reply.outcome != nullptr)
            logged = log_query(view, *reply.outcome, reply.datagrams);
        if (reply.punt) {
            punt(ref, view, probed);
            return;
        }
        const std::uint32_t staged = stage_reply(ref, view, reply);
        if (probed)
            for (std::size_t k = tx_count_ - staged; k < tx_count_; ++k)
                probe_->capture(rx_ns_, querylog::ProbeDirection::Response,
                                querylog::ProbeLink::Ethernet, {tx_[k].data, tx_[k].length});
        if (logged != nullptr && staged != reply.datagrams)
            querylog::set_sent(*logged, *reply.outcome, staged);
    }

    /// Stages the reply's datagrams for transmission (or drops the request); returns how many.
    std::uint32_t stage_reply(PacketRef& ref, const packet::PacketView& view,
                              const resolve::Responder::Reply& reply) noexcept
    {
        if (reply.empty()) {
            stats_.unanswered.add();
            drop(ref);
            return 0;
        }
        if (reply.datagrams > kMaxDatagramsPerAnswer) {
            stats_.too_many_datagrams.add();
            abandon(ref, 0);
            return 0;
        }
        // The first datagram goes in the request's own buffer, the others in fresh ones, staged
        // right after it so an answer's datagrams leave in order.
        const std::size_t extra = reply.datagrams - 1;
        PacketRef* more = tx_.data() + tx_count_ + 1;
        if (extra > 0) {
            const std::size_t got = port_.alloc({more, extra});
            if (got < extra) {
                port_.free({more, got});
                stats_.alloc_failed.add();
                abandon(ref, 0);
                return 0;
            }
        }
        const std::size_t first = detail::write_first_datagram(
            {ref.data, ref.capacity}, view, responder_, ipv4_id_++, checksum_mode_);
        const packet::TxChecksums offload = checksum_mode_ == packet::ChecksumMode::Offload
                                                ? packet::udp_reply_tx_checksums(view)
                                                : packet::TxChecksums{};
        if (first == 0) {
            stats_.oversize.add();
            abandon(ref, extra);
            return 0;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            PacketRef& out = more[k - 1];
            const std::size_t len = detail::write_next_datagram(
                {out.data, out.capacity}, {ref.data, first}, view, responder_,
                static_cast<std::uint32_t>(k), ipv4_id_++, checksum_mode_);
            if (len == 0) {
                stats_.oversize.add();
                abandon(ref, extra);
                return 0;
            }
            out.length = static_cast<std::uint16_t>(len);
            out.tx_checksums = offload;
        }
        ref.length = static_cast<std::uint16_t>(first);
        ref.tx_checksums = offload;
        tx_[tx_count_] = ref;
        tx_count_ += reply.datagrams;
        return reply.datagrams;
    }

    /// One record for a request the Responder completed; none (null) when the ring is full,
    /// counted.
    querylog::Record* log_query(const packet::PacketView& view, const resolve::Outcome& outcome,
                                std::uint32_t datagrams) noexcept
    {
        querylog::Record* r = log_->begin_query(rx_ns_);
        if (r == nullptr)
            return nullptr;
        querylog::fill_query(*r, frame_peer(view), outcome, datagrams);
        return r;
    }

    /// An answer the Responder produced but we cannot send: drop the request and the `extra`
    /// buffers allocated for it.
    void abandon(const PacketRef& ref, std::size_t extra) noexcept
    {
        stats_.answers.send_errors.add();
        if (extra > 0)
            port_.free({tx_.data() + tx_count_ + 1, extra});
        drop(ref);
    }

    void drop(const PacketRef& ref) noexcept { drop_[drop_count_++] = ref; }

    /// Copies a miss into the outbox (published once per burst) and frees its buffer; a full
    /// outbox or an oversized frame loses it, counted. `probed`: the resolver thread captures
    /// the reply (the worker never sees it as an answer of this burst).
    void punt(const PacketRef& ref, const packet::PacketView& view, bool probed) noexcept
    {
        FrameMiss* m = ref.length <= kMaxPuntFrame ? punt_->misses.claim() : nullptr;
        if (m == nullptr) {
            stats_.answers.punt_dropped.add();
            drop(ref);
            return;
        }
        fill_frame_miss(*m, {ref.data, ref.length}, view, rx_ns_, probed); // fits: checked above
        ++punted_count_;
        drop(ref);
    }

    /// At most one burst of the resolver threads' reply frames, copied into fresh buffers and
    /// transmitted with one tx_burst; returns how many were taken from the inbox.
    std::size_t transmit_resolved() noexcept
    {
        const auto ready = punt_->replies.peek();
        const std::size_t want = std::min(ready.size(), resolved_.size());
        if (want == 0)
            return 0;
        const std::size_t got = port_.alloc({resolved_.data(), want});
        std::size_t staged = 0, oversize = 0;
        for (std::size_t i = 0; i < got; ++i) {
            const ReplyFrame& f = i < ready.first.size() ? ready.first[i] : ready.second[i - ready.first.size()];
            PacketRef& b = resolved_[i];
            if (f.length == 0 || f.length > b.capacity) {
                resolved_oversize_[oversize++] = b;
                continue;
            }
            std::memcpy(b.data, f.frame.data(), f.length);
            b.length = f.length;
            resolved_[staged++] = b;
        }
        // Taken whether sent or not: a reply the port refuses now would only be older later.
        punt_->replies.release(got);
        if (oversize > 0) {
            stats_.punt_tx_dropped.add(oversize);
            port_.free({resolved_oversize_.data(), oversize});
        }
        if (staged == 0)
            return got;
        const std::size_t sent = port_.tx_burst({resolved_.data(), staged});
        stats_.punt_tx.add(sent);
        stats_.tx.add(sent);
        if (sent < staged) {
            stats_.punt_tx_dropped.add(staged - sent);
            port_.free({resolved_.data() + sent, staged - sent});
        }
        return got;
    }

    void transmit() noexcept
    {
        if (tx_count_ == 0)
            return;
        const std::size_t sent = port_.tx_burst({tx_.data(), tx_count_});
        stats_.tx.add(sent);
        if (sent < tx_count_) {
            stats_.tx_dropped.add(tx_count_ - sent);
            port_.free({tx_.data() + sent, tx_count_ - sent});
        }
    }

    /// This burst's frames for the kernel, in one tx_burst; the exception port's refusals are
    /// freed on the main port, which received them.
    void pass_to_kernel() noexcept
    {
        if (kernel_count_ == 0)
            return;
        const std::size_t sent = exception_->tx_burst({to_kernel_.data(), kernel_count_});
        stats_.exception_out.add(sent);
        if (sent < kernel_count_) {
            stats_.exception_out_dropped.add(kernel_count_ - sent);
            port_.free({to_kernel_.data() + sent, kernel_count_ - sent});
        }
    }

    /// One burst the kernel sent (its TCP segments, ARP requests, ...), out of the main port
    /// unchanged: the kernel built them for the wire. It borrows rx_, which the main burst
    /// only fills afterwards. Returns the frames received.
    std::size_t forward_from_kernel() noexcept
    {
        const std::size_t n = exception_->rx_burst(rx_);
        if (n == 0)
            return 0;
        const std::size_t sent = port_.tx_burst({rx_.data(), n});
        stats_.exception_in.add(sent);
        if (sent < n) {
            stats_.exception_in_dropped.add(n - sent);
            exception_->free({rx_.data() + sent, n - sent});
        }
        return n;
    }

    P& port_;
    P* exception_;
    packet::PacketConfig config_;
    WorkerStats stats_;
    resolve::Responder responder_;
    packet::ChecksumMode checksum_mode_;
    std::uint16_t ipv4_id_ = 0;
    bool answer_local_ = true;
    querylog::QueryLog* log_ = nullptr;
    querylog::Probe* probe_ = nullptr;
    RealtimeClock clock_ = nullptr;
    std::uint64_t rx_ns_ = 0; // the current burst's arrival, for the query log and the probe
    std::size_t tx_count_ = 0;
    std::size_t drop_count_ = 0;
    std::size_t kernel_count_ = 0;
    std::size_t punted_count_ = 0; // misses of this burst in the outbox, unpublished
    PuntQueues* punt_ = nullptr;
    std::array<PacketRef, kBurstSize> rx_{};
    std::array<packet::PacketView, kBurstSize> views_{};
    /// Handles longer than this are not warmed (a handle is at most 2048 octets; sample and
    /// real-world ones are a few dozen).
    static constexpr std::size_t kWarmKeyMax = 128;
    static constexpr std::size_t kWarmTablesAbove = std::size_t{8} << 20;
    std::array<std::array<char, kWarmKeyMax>, kBurstSize> warm_keys_{};
    std::array<std::string_view, kBurstSize> keys_{};
    std::array<std::optional<table::RecordView>, kBurstSize> found_{};
    std::array<PacketRef, kBurstSize * kMaxDatagramsPerAnswer> tx_{};
    std::array<PacketRef, kBurstSize> drop_{};
    std::array<PacketRef, kBurstSize> to_kernel_{};
    std::array<PacketRef, kBurstSize> resolved_{};
    std::array<PacketRef, kBurstSize> resolved_oversize_{};
};

} // namespace idpath::worker
