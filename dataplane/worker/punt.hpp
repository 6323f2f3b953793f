#pragma once
/// The recursive role's hand-off on the DPDK path (docs/recursion.md): a worker copies each
/// Handle request its table cannot answer, with REC set, into its outbox (FrameMiss: the frame
/// as received and its classification); a resolver thread takes it, resolves the handle
/// upstream, writes the reply's frames with punt_reply_frame() into the worker's inbox, and the
/// worker transmits them on its own queue at its next poll. So a TX queue keeps its single
/// owner, the lcore, and the lcore only allocates buffers, copies and transmits: no lock, no
/// syscall, nothing it waits for.
/// Thread-safety: PuntQueues as worker::OutboxRing / InboxRing; punt_reply_frame() is pure.

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/base/bytes.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/querylog/fill.hpp"
#include "dataplane/worker/handoff_ring.hpp"

namespace idpath::worker {

/// Frames larger than this are not punted (answered from the table alone; counted
/// punt_dropped) and no reply frame is larger: one standard mbuf's data room.
inline constexpr std::size_t kMaxPuntFrame = 2048;

/// One punted request.
struct FrameMiss {
    /// classify()'s view of `frame`, its `payload` span cleared (it pointed into the worker's
    /// buffer); payload() finds the datagram in the copy.
    packet::PacketView view{};
    /// When the request's burst arrived (realtime ns; 0 when the worker logs nothing), for the
    /// resolver thread's record of the answer.
    std::uint64_t rx_ns = 0;
    std::uint16_t length = 0;
    /// The worker's probe sampled the request: the resolver thread captures the reply too.
    bool probed = false;
    std::array<std::uint8_t, kMaxPuntFrame> frame;

    /// The Handle datagram (envelope + message), inside `frame`.
    ByteSpan payload() const noexcept;
};

/// One frame for the worker to transmit as it is (checksums final).
struct ReplyFrame {
    std::uint16_t length = 0;
    std::array<std::uint8_t, kMaxPuntFrame> frame;
};

/// One worker's two rings (one worker per lcore and device queue).
struct PuntQueues {
    PuntQueues(std::size_t miss_entries, std::size_t reply_entries)
        : misses(miss_entries), replies(reply_entries)
    {
    }
    OutboxRing<FrameMiss> misses;
    InboxRing<ReplyFrame> replies;
};

/// Both ends of a classified UDP request frame, as the query log records them.
querylog::Peer frame_peer(const packet::PacketView& view) noexcept;

/// Copies the HandleRequest `frame` and its `view` into `out`; false (nothing written) when the
/// frame is larger than kMaxPuntFrame.
bool fill_frame_miss(FrameMiss& out, ByteSpan frame, const packet::PacketView& view,
                     std::uint64_t rx_ns = 0, bool probed = false) noexcept;

/// The UDP frame of datagram `k` of the reply `payload` (one datagram: envelope + message as it
/// goes on the wire, cut by the caller as the serving path cuts) to `miss`, into `out`: the
/// request's MACs swapped and VLAN tags kept, its addresses and ports swapped, checksums final
/// (software), as write_udp_reply() answers on the hot path. `ipv4_id` for IPv4. Returns the
/// frame length, 0 when it does not fit `out`.
std::size_t punt_reply_frame(const FrameMiss& miss, ByteSpan payload, std::uint16_t ipv4_id,
                             MutableByteSpan out) noexcept;

} // namespace idpath::worker
