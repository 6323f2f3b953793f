#include "dataplane/base/qsbr.hpp"

#include <chrono>
#include <thread>

namespace idpath {

Reclaimer::Reclaimer(unsigned max_threads)
    : capacity_(max_threads), slots_(std::make_unique<Slot[]>(max_threads))
{
}

Reclaimer::~Reclaimer() = default;

unsigned Reclaimer::register_thread() noexcept
{
    unsigned id = count_.load(std::memory_order_relaxed);
    do {
        if (id >= capacity_)
            return kNoId;
    } while (!count_.compare_exchange_weak(id, id + 1, std::memory_order_acq_rel));
    return id;
}

void Reclaimer::synchronize() noexcept
{
    // seq_cst: orders the caller's pointer store before the loads of the readers' slots below
    // (the writer half of the store-load pairing online() relies on).
    const std::uint64_t token = token_.fetch_add(1, std::memory_order_seq_cst) + 1;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const unsigned count = count_.load(std::memory_order_acquire);
    auto pause = std::chrono::microseconds(10);
    for (unsigned i = 0; i < count; ++i) {
        for (;;) {
            const std::uint64_t seen = slots_[i].seen.load(std::memory_order_acquire);
            if (seen == kOffline || seen >= token)
                break;
            // Readers report once per batch (microseconds); sleeping, growing to 1 ms, keeps a
            // long synchronize from costing a core.
            std::this_thread::sleep_for(pause);
            if (pause < std::chrono::milliseconds(1))
                pause *= 2;
        }
    }
}

} // namespace idpath
