#pragma once
/// The recursive role's hand-off for TCP (docs/recursion.md): the TCP loop copies a miss with
/// REC set into `misses` (its single producer; worker::OutboxRing), a resolver thread takes it,
/// resolves upstream and gives the reply back here; the loop is woken by an eventfd in its epoll
/// set and writes the reply on the connection the request came on.
///
/// Replies run up to 256 KiB, so they are not fixed slots but a bounded queue of owned buffers
/// under a mutex: the resolver side allocates, the loop only swaps the queue out. Over the bound
/// a reply is dropped and counted; its connection is closed by the loop's punt timeout.
/// Thread-safety: misses as OutboxRing; give() from any thread; take() from the loop only.

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/querylog/fill.hpp"
#include "dataplane/worker/handoff_ring.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::socket {

/// One punted TCP request: the connection it came on and the request itself.
struct TcpMiss {
    /// A request this large is answered from the table instead (as UDP's miss slot).
    static constexpr std::size_t kMaxRequest = 2048;

    /// The connection's slot in the loop and its generation then: a reply for a slot closed
    /// (and maybe reused) since is recognised as stale and dropped.
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    /// Both ends as the loop logged them, and when the request arrived (realtime ns; 0 when the
    /// loop logs nothing): the resolver thread's record of the answer.
    querylog::Peer peer{};
    std::uint64_t rx_ns = 0;
    std::uint32_t length = 0;
    std::array<std::uint8_t, kMaxRequest> request; // envelope + message
};

/// One reply on its way back to the loop. Empty bytes: the resolver had none; the loop closes
/// the connection rather than leave the client waiting.
struct TcpReply {
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    std::vector<std::uint8_t> bytes;
};

class TcpPuntQueue {
public:
    static constexpr std::size_t kDefaultMaxReplies = 4096;

    /// `ring_entries` miss slots (rounded up to a power of two); at most `max_replies` replies
    /// waiting for the loop. Creates the eventfd; check valid().
    explicit TcpPuntQueue(std::size_t ring_entries, std::size_t max_replies = kDefaultMaxReplies);

    bool valid() const noexcept { return event_.valid(); }

    worker::OutboxRing<TcpMiss> misses;

    // ---- resolver threads ----
    /// Queues a copy of `reply` for connection (slot, generation) and wakes the loop; false
    /// (counted in replies_dropped) when `max_replies` are already waiting.
    bool give(std::uint32_t slot, std::uint32_t generation, ByteSpan reply);

    // ---- the loop ----
    /// Readable (EPOLLIN) while replies wait.
    int event_fd() const noexcept { return event_.get(); }
    /// Moves every waiting reply into `out` (cleared first; its capacity is reused) and resets
    /// the eventfd. Call when event_fd() is readable.
    void take(std::vector<TcpReply>& out);

    /// Replies dropped because the queue was full.
    std::uint64_t replies_dropped() const noexcept { return dropped_.get(); }

private:
    UniqueFd event_;
    const std::size_t max_replies_;
    std::mutex mutex_;
    std::vector<TcpReply> waiting_; // under mutex_
    Counter dropped_;               // written under mutex_
};

} // namespace idpath::socket
