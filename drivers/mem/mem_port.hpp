#pragma once
/// An in-memory Port (DESIGN.md section 2, drivers/mem) for unit and component tests and
/// micro-benchmarks: frames injected by the test, transmitted frames kept for it to read, a
/// fixed pool of buffers so exhaustion and leaks are observable, and a TX queue of bounded
/// capacity so refusals can be provoked.
///
/// Two ports may share one pool (sharing_pool_of), as two DPDK ports share an rte_mempool: a
/// buffer received on either may then be transmitted or freed on the other, which is how the
/// worker moves frames between its port and its exception port. Ports with separate pools stay
/// separate: a buffer of one handed to the other's free() or take_tx() is a bad free, never
/// silently recycled (a cookie names its buffer by address, unique across pools).
///
/// Thread-safety: one thread, like every Port (ports sharing a pool too). Construction
/// allocates; rx_burst, tx_burst, alloc, free and inject do not; take_tx() does (it copies
/// frames out).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/worker/port.hpp"

namespace idpath::drivers::mem {

class MemPort {
public:
    static constexpr std::size_t kDefaultBufferSize = 2048;
    static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

    /// `buffers` of `buffer_size` octets each (at most 65535: PacketRef::capacity).
    explicit MemPort(std::size_t buffers = 256, std::size_t buffer_size = kDefaultBufferSize);

    /// A second port over `other`'s pool, with its own RX and TX queues. The pool lives as
    /// long as either port.
    static MemPort sharing_pool_of(MemPort& other);

    // Copying would duplicate queued buffers' ownership; moving is fine (the pool is on the heap).
    MemPort(const MemPort&) = delete;
    MemPort& operator=(const MemPort&) = delete;
    MemPort(MemPort&&) = default;
    MemPort& operator=(MemPort&&) = default;
    ~MemPort() = default;

    /// Queues a received frame in a pool buffer; false when the pool is exhausted or the frame
    /// is larger than a buffer.
    bool inject(ByteSpan frame) noexcept;

    std::size_t rx_burst(std::span<worker::PacketRef> burst) noexcept;
    /// Accepts up to the TX capacity left (see set_tx_capacity); accepted buffers stay in use
    /// until take_tx() or drain_tx().
    std::size_t tx_burst(std::span<worker::PacketRef> burst) noexcept;
    std::size_t alloc(std::span<worker::PacketRef> burst) noexcept;
    /// Buffers not in use (double frees, another pool's buffers) are counted, not freed.
    void free(std::span<worker::PacketRef> burst) noexcept;

    /// How many frames the TX queue holds before it refuses more (default: unlimited).
    void set_tx_capacity(std::size_t frames) noexcept { tx_capacity_ = frames; }

    /// The transmitted frames, oldest first; their buffers return to the pool.
    std::vector<std::vector<std::uint8_t>> take_tx();
    /// Returns the transmitted buffers to the pool without copying; how many there were.
    std::size_t drain_tx() noexcept;

    /// Pool-wide figures: with a shared pool they cover every port using it.
    std::size_t buffers_in_use() const noexcept
    {
        return pool_->buffer_count - pool_->free_list.size();
    }
    std::size_t bad_frees() const noexcept { return pool_->bad_frees; }
    /// This port's queues.
    std::size_t rx_pending() const noexcept { return rx_.size() - rx_head_; }
    std::size_t tx_pending() const noexcept { return tx_.size(); }
    std::size_t tx_burst_calls() const noexcept { return tx_calls_; }

private:
    struct Pool {
        Pool(std::size_t buffers, std::size_t buffer_size);

        std::size_t buffer_count;
        std::size_t buffer_size;
        std::unique_ptr<std::uint8_t[]> memory;
        std::vector<std::uint32_t> free_list;
        std::vector<bool> in_use;
        std::size_t bad_frees = 0;
    };

    explicit MemPort(std::shared_ptr<Pool> pool);

    worker::PacketRef take_buffer() noexcept;
    bool release(void* cookie) noexcept;

    std::shared_ptr<Pool> pool_;
    std::vector<worker::PacketRef> rx_;
    std::size_t rx_head_ = 0;
    std::vector<worker::PacketRef> tx_;
    std::size_t tx_capacity_ = kUnlimited;
    std::size_t tx_calls_ = 0;
};

static_assert(worker::Port<MemPort>);

} // namespace idpath::drivers::mem
