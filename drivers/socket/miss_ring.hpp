#pragma once
/// The recursive role's hand-off (docs/recursion.md): a UDP serving thread copies each request
/// it could not answer from the table into its own miss ring; the resolver threads take them,
/// resolve upstream and answer the client from the same socket and local address.
///
/// One ring per serving thread (its single producer). Consumers take a ring's mutex
/// (MissRings::Consumer) so several resolver threads share the rings; the producer never waits:
/// a full ring drops the request, counted (ResolveStats::punt_dropped).

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dataplane/querylog/spsc_ring.hpp"

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
    std::uint32_t length = 0;
    std::array<std::uint8_t, kMaxPayload> payload;
};

class MissRing {
public:
    explicit MissRing(std::size_t capacity) : ring_(capacity) {}

    // ---- the serving thread ----
    /// A slot to fill, or null when full; push() makes it visible.
    Miss* claim() noexcept { return ring_.claim(); }
    void push() noexcept { ring_.publish(); }

    // ---- any resolver thread ----
    /// Takes the oldest miss into `out`; false when there is none (or another consumer holds
    /// the ring right now).
    bool take(Miss& out)
    {
        const std::unique_lock lock(consumer_, std::try_to_lock);
        if (!lock.owns_lock())
            return false;
        const auto r = ring_.peek();
        if (r.size() == 0)
            return false;
        out = r.first.front(); // non-empty whenever anything is published
        ring_.release(1);
        return true;
    }

    std::size_t capacity() const noexcept { return ring_.capacity(); }

private:
    querylog::SpscRing<Miss> ring_;
    std::mutex consumer_;
};

} // namespace idpath::socket
