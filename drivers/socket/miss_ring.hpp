#pragma once
/// The recursive role's hand-off (docs/recursion.md): a UDP serving thread copies each request
/// it could not answer from the table into its own miss ring; the resolver threads take them,
/// resolve upstream and answer the client from the same socket and local address.
///
/// One ring per serving thread (its single producer; worker::OutboxRing): the resolver threads
/// share the rings, and the producer never waits: a full ring drops the request, counted
/// (ResolveStats::punt_dropped).

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/querylog/fill.hpp"
#include "dataplane/worker/handoff_ring.hpp"

namespace idpath::socket {

/// One punted request: enough to answer it later from another thread.
struct Miss {
    static constexpr std::size_t kMaxPayload = 2048; // UdpWorker::kRxSlotSize
    static constexpr std::size_t kMaxControl = 64;   // UdpWorker::kControlSize

    sockaddr_storage client;
    socklen_t client_length = 0;
    /// The reply's control message (IP_PKTINFO / IPV6_PKTINFO source), ready for sendmsg.
    alignas(cmsghdr) std::array<std::uint8_t, kMaxControl> control;
    std::uint32_t control_length = 0;
    /// The serving thread's socket; it stays open until the resolver threads have stopped.
    int fd = -1;
    /// Both ends as the serving thread logged them, and when the request arrived (realtime ns;
    /// 0 when the thread logs nothing): the resolver thread's record of the answer.
    querylog::Peer peer{};
    std::uint64_t rx_ns = 0;
    /// The serving thread's probe sampled the request: the resolver thread captures the reply.
    bool probed = false;
    std::uint32_t length = 0;
    std::array<std::uint8_t, kMaxPayload> payload;
};

using MissRing = worker::OutboxRing<Miss>;

} // namespace idpath::socket
