#pragma once
/// The run loop of one lcore (DESIGN.md section 3): receive a burst, classify each frame, answer
/// Handle requests, ARP, neighbour solicitations and pings in place, transmit every reply of the
/// burst with one tx_burst, and free the rest, counting why.
///
/// Thread-safety: one Worker per lcore, driving its own Port queue; nothing is shared but the
/// table (read-only) and the counters (single writer, read by any thread).
/// Hot path: poll_once() never allocates, locks, makes syscalls or throws (the Responder's
/// bounded reassembler, for the rare multi-datagram request, is the one exception it allows).

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/responder.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/reassembly.hpp"
#include "dataplane/worker/port.hpp"

namespace idpath::worker {

/// Datagrams of one answer the TX staging array has room for. Policy::max_udp_datagrams caps
/// answers first (default 8); an answer above this is dropped as too_many_datagrams.
inline constexpr std::size_t kMaxDatagramsPerAnswer = 16;

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
/// (the HandleRequest `view` classified). Returns the frame length, or 0 if it does not fit.
std::size_t write_first_datagram(MutableByteSpan buffer, const packet::PacketView& view,
                                 const resolve::Responder& responder,
                                 std::uint16_t ipv4_id) noexcept;

/// Datagram k >= 1 of the responder's last UDP reply, into the fresh buffer `out`, with the
/// L2 headers of `first_reply` (what write_first_datagram built). 0 if it does not fit.
std::size_t write_next_datagram(MutableByteSpan out, ByteSpan first_reply,
                                const packet::PacketView& view,
                                const resolve::Responder& responder, std::uint32_t k,
                                std::uint16_t ipv4_id) noexcept;

} // namespace detail

/// One lcore's loop over one Port queue. `port` and `policy` must outlive the Worker.
/// Construction allocates (the Responder's reply buffer); poll_once() does not.
template <Port P>
class Worker {
public:
    Worker(P& port, const packet::PacketConfig& config, const resolve::Policy& policy,
           wire::ReassemblyLimits limits = {})
        : port_(port), config_(config), responder_(policy, stats_.answers, limits)
    {
    }

    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Receives at most one burst (kBurstSize frames), answers it against `table` and transmits
    /// the replies. `now_unix` stamps answers; `now_ms` (monotonic) times reassembly.
    /// Returns the frames received (0: the queue was empty).
    std::size_t poll_once(const table::Table& table, std::uint32_t now_unix,
                          std::uint64_t now_ms) noexcept
    {
        const std::size_t n = port_.rx_burst(rx_);
        if (n == 0)
            return 0;
        stats_.rx.add(n);
        tx_count_ = 0;
        drop_count_ = 0;
        for (std::size_t i = 0; i < n; ++i) {
            // Classification touches the first cache line of every frame: fetch the next one
            // while this one is resolved.
            if (i + 1 < n)
                __builtin_prefetch(rx_[i + 1].data);
            handle(rx_[i], table, now_unix, now_ms);
        }
        transmit();
        if (drop_count_ > 0) {
            stats_.dropped.add(drop_count_);
            port_.free({drop_.data(), drop_count_});
        }
        return n;
    }

    /// Drops partial multi-datagram requests older than the reassembly timeout.
    void expire(std::uint64_t now_ms) { responder_.expire(now_ms); }

    const WorkerStats& stats() const noexcept { return stats_; }
    const resolve::Responder& responder() const noexcept { return responder_; }

private:
    void handle(PacketRef& ref, const table::Table& table, std::uint32_t now_unix,
                std::uint64_t now_ms) noexcept
    {
        const packet::PacketView view = packet::classify({ref.data, ref.length}, config_);
        stats_.packets.count(view);
        if (view.verdict == packet::Verdict::HandleRequest) {
            answer(ref, view, table, now_unix, now_ms);
            return;
        }
        if (!detail::is_local_service(view.verdict)) {
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
        const auto reply = responder_.on_udp(table, src, view.payload, now_unix, now_ms);
        if (reply.empty()) {
            stats_.unanswered.add();
            drop(ref);
            return;
        }
        if (reply.datagrams > kMaxDatagramsPerAnswer) {
            stats_.too_many_datagrams.add();
            abandon(ref, 0);
            return;
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
                return;
            }
        }
        const std::size_t first = detail::write_first_datagram({ref.data, ref.capacity}, view,
                                                               responder_, ipv4_id_++);
        if (first == 0) {
            stats_.oversize.add();
            abandon(ref, extra);
            return;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            PacketRef& out = more[k - 1];
            const std::size_t len = detail::write_next_datagram(
                {out.data, out.capacity}, {ref.data, first}, view, responder_,
                static_cast<std::uint32_t>(k), ipv4_id_++);
            if (len == 0) {
                stats_.oversize.add();
                abandon(ref, extra);
                return;
            }
            out.length = static_cast<std::uint16_t>(len);
        }
        ref.length = static_cast<std::uint16_t>(first);
        tx_[tx_count_] = ref;
        tx_count_ += reply.datagrams;
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

    P& port_;
    packet::PacketConfig config_;
    WorkerStats stats_;
    resolve::Responder responder_;
    std::uint16_t ipv4_id_ = 0;
    std::size_t tx_count_ = 0;
    std::size_t drop_count_ = 0;
    std::array<PacketRef, kBurstSize> rx_{};
    std::array<PacketRef, kBurstSize * kMaxDatagramsPerAnswer> tx_{};
    std::array<PacketRef, kBurstSize> drop_{};
};

} // namespace idpath::worker
