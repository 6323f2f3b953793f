#pragma once
/// Single-writer statistics counters.
///
/// Each counter is written by exactly one thread (its worker) and read by any thread (admin,
/// metrics). Relaxed atomics make the cross-thread read well-defined without a locked
/// read-modify-write: the owner does load + store, which compiles to a plain add.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace idpath {

inline constexpr std::size_t kCacheLine = 64;

class Counter {
public:
    void add(std::uint64_t n = 1) noexcept
    {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

} // namespace idpath
