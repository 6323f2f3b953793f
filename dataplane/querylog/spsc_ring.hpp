#pragma once
/// A bounded single-producer single-consumer ring of fixed-size slots, filled in place.
///
/// The producer (a serving thread) claims slots and writes records straight into them, then
/// publishes all it claimed with one release store, once per burst; it never waits: a full ring
/// refuses the claim. The consumer (an exporter thread) sees published slots as at most two
/// contiguous spans and releases them when done. Both sides cache the other's index so the
/// shared cache lines are touched about once per burst, not per record.
///
/// Pure C++ (std::atomic) rather than rte_ring because the same ring serves kernel-socket
/// threads, DPDK lcores and unit tests, and records are written in place instead of copied in.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/base/counter.hpp"

namespace idpath::querylog {

template <class T>
class SpscRing {
public:
    /// `capacity` is rounded up to a power of two (at least 2). Allocates; never afterwards.
    explicit SpscRing(std::size_t capacity)
    {
        std::size_t c = 2;
        while (c < capacity)
            c <<= 1;
        mask_ = c - 1;
        slots_ = std::make_unique<T[]>(c);
    }

    std::size_t capacity() const noexcept { return mask_ + 1; }

    // ---- producer side ----

    /// The next unclaimed slot, or null when the ring is full. Claimed slots are invisible to
    /// the consumer until publish().
    T* claim() noexcept
    {
        if (claimed_ - cached_tail_ > mask_) {
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (claimed_ - cached_tail_ > mask_)
                return nullptr;
        }
        return &slots_[claimed_++ & mask_];
    }

    /// Slots claim() can still hand out before the consumer releases any (refreshes the cached
    /// view of the consumer, so a producer that needs several at once asks first).
    std::size_t room() noexcept
    {
        cached_tail_ = tail_.load(std::memory_order_acquire);
        return capacity() - static_cast<std::size_t>(claimed_ - cached_tail_);
    }

    /// Makes every slot claimed so far visible to the consumer.
    void publish() noexcept { head_.store(claimed_, std::memory_order_release); }

    /// Slots claimed and not yet published (in claim order, oldest first), for a last touch
    /// before publish(): the worker stamps a burst's latency after transmitting it.
    std::size_t unpublished() const noexcept { return claimed_ - head_.load(std::memory_order_relaxed); }
    T& unpublished_at(std::size_t i) noexcept
    {
        return slots_[(head_.load(std::memory_order_relaxed) + i) & mask_];
    }

    // ---- consumer side ----

    /// Published, unreleased slots as up to two contiguous spans (the ring wraps).
    struct Readable {
        std::span<const T> first, second;
        std::size_t size() const noexcept { return first.size() + second.size(); }
    };

    Readable peek() noexcept
    {
        const std::uint64_t head = head_.load(std::memory_order_acquire);
        const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
        const std::size_t n = static_cast<std::size_t>(head - tail);
        const std::size_t at = static_cast<std::size_t>(tail & mask_);
        const std::size_t first = n < capacity() - at ? n : capacity() - at;
        return {{&slots_[at], first}, {&slots_[0], n - first}};
    }

    /// Returns `n` slots (from peek(), oldest first) to the producer.
    void release(std::size_t n) noexcept
    {
        tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    }

private:
    std::unique_ptr<T[]> slots_;
    std::size_t mask_ = 0;
    // Producer's line: what it claimed and its view of the consumer.
    alignas(kCacheLine) std::uint64_t claimed_ = 0;
    std::uint64_t cached_tail_ = 0;
    alignas(kCacheLine) std::atomic<std::uint64_t> head_{0}; // published
    alignas(kCacheLine) std::atomic<std::uint64_t> tail_{0}; // released
};

} // namespace idpath::querylog
