#pragma once
/// Rings that hand work between one serving thread (a DPDK worker, a UDP socket thread) and the
/// control plane's helper threads (the recursive role's resolvers), over querylog::SpscRing, so
/// that the serving side never waits and never allocates:
/// - OutboxRing: the serving thread produces lock-free; the helpers consume, one at a time, under
///   a mutex they only try to take (a busy ring is skipped, not waited on).
/// - InboxRing: the helpers produce, one at a time under a mutex; the serving thread consumes
///   lock-free (peek, then release what it used).
/// Thread-safety: as above. Hot path: the serving thread's calls only.

#include <cstddef>
#include <mutex>

#include "dataplane/querylog/spsc_ring.hpp"

namespace idpath::worker {

template <class T>
class OutboxRing {
public:
    explicit OutboxRing(std::size_t capacity) : ring_(capacity) {}

    // ---- the serving thread ----
    /// A slot to fill, or null when full; push() makes every claimed slot visible.
    T* claim() noexcept { return ring_.claim(); }
    void push() noexcept { ring_.publish(); }

    // ---- any helper thread ----
    /// Copies the oldest item into `out`; false when there is none or another helper holds the
    /// ring right now.
    bool take(T& out)
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
    querylog::SpscRing<T> ring_;
    std::mutex consumer_;
};

template <class T>
class InboxRing {
public:
    explicit InboxRing(std::size_t capacity) : ring_(capacity) {}

    // ---- any helper thread ----
    /// Calls fill(i, slot) for i in [0, n) on n consecutive slots and makes them visible together;
    /// false (nothing written) when the ring has no room for all n.
    template <class Fill>
    bool give(std::size_t n, Fill&& fill)
    {
        const std::lock_guard lock(producer_);
        if (ring_.room() < n)
            return false;
        for (std::size_t i = 0; i < n; ++i) {
            T* slot = ring_.claim();
            if (slot == nullptr) [[unlikely]] // cannot happen: room() said so, and we hold the lock
                break;
            fill(i, *slot);
        }
        ring_.publish();
        return true;
    }

    // ---- the serving thread ----
    /// Published, unreleased items, oldest first, as up to two spans.
    typename querylog::SpscRing<T>::Readable peek() noexcept { return ring_.peek(); }
    void release(std::size_t n) noexcept { ring_.release(n); }

    std::size_t capacity() const noexcept { return ring_.capacity(); }

private:
    querylog::SpscRing<T> ring_;
    std::mutex producer_;
};

} // namespace idpath::worker
