#pragma once
/// Quiescent-state based reclamation for threads outside DPDK (the kernel-socket servers): the
/// pure-build Reclaimer of DESIGN.md section 4, shaped like rte_rcu_qsbr.
///
/// A writer publishes a new object with an atomic pointer store, calls synchronize(), and may
/// then free the old object: synchronize() returns once every registered reader thread has,
/// after the call began, either reported a quiescent state or been offline.
///
/// Readers: register_thread() (control side, before the reader starts) gives an id; the reader
/// then calls online(id) before it reads the published pointer, quiescent(id) between batches
/// (it holds no reference across the call), and offline(id) before blocking (poll, epoll_wait),
/// so a reader blocked for seconds never stalls a writer. A registered thread starts offline.
/// Reader calls are inline, lock-free and allocation-free: one load and one store each, plus
/// one full fence in online(). Each reader owns one cache line.
///
/// Thread-safety: register_thread() and synchronize() from control threads (synchronize()
/// calls are serialized by the caller or may overlap: each waits for its own token); online,
/// quiescent and offline only from the thread that owns the id.

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/base/counter.hpp"

namespace idpath {

class Reclaimer {
public:
    /// Room for `max_threads` readers.
    explicit Reclaimer(unsigned max_threads);
    ~Reclaimer();
    Reclaimer(const Reclaimer&) = delete;
    Reclaimer& operator=(const Reclaimer&) = delete;

    /// A new reader id (offline), or kNoId when all max_threads are taken.
    unsigned register_thread() noexcept;
    static constexpr unsigned kNoId = ~0u;

    void online(unsigned id) noexcept
    {
        slots_[id].seen.store(token_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        // The store above must be visible before the reader loads the published pointer
        // (rte_rcu_qsbr_thread_online issues the same full barrier); the writer's token
        // increment is the matching fence on its side.
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    void quiescent(unsigned id) noexcept
    {
        // Acquire: a reader that has seen the writer's token also sees the pointer published
        // before it. Release: the reader's reads of the old object happen before the writer
        // sees this store.
        slots_[id].seen.store(token_.load(std::memory_order_acquire), std::memory_order_release);
    }
    void offline(unsigned id) noexcept { slots_[id].seen.store(kOffline, std::memory_order_release); }

    /// Waits, sleeping between checks, until every registered reader has passed a quiescent
    /// state (or been offline) since the call began.
    void synchronize() noexcept;

    unsigned registered() const noexcept { return count_.load(std::memory_order_acquire); }

private:
    static constexpr std::uint64_t kOffline = 0;

    struct alignas(kCacheLine) Slot {
        std::atomic<std::uint64_t> seen{kOffline};
    };

    alignas(kCacheLine) std::atomic<std::uint64_t> token_{1};
    alignas(kCacheLine) std::atomic<unsigned> count_{0};
    unsigned capacity_;
    std::unique_ptr<Slot[]> slots_;
};

} // namespace idpath
