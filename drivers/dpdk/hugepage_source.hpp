#pragma once
/// The table's blocks from DPDK's hugepage heap (rte_zmalloc_socket): idpathd in DPDK mode with
/// hugepages installs this source before it builds a table, so bucket arrays and record arenas
/// sit on the hugepages EAL reserved, on the NIC's NUMA node, with no transparent-huge-page
/// luck involved. When the heap is exhausted allocate() says so and table::Buffer falls back to
/// anonymous memory (counted in table::block_usage()).
///
/// Lifetime: one process-wide object, never destroyed. Eal's destructor retires it before
/// rte_eal_cleanup(): the source is uninstalled, and a block still alive then (a table the
/// caller forgot to free first) is not handed to rte_free on a heap that is gone, only counted.
/// Thread-safety: allocate/release from any thread; install/retire from the main thread.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/table/buffer.hpp"

namespace idpath::dpdk {

class HugepageSource final : public table::BlockSource {
public:
    static HugepageSource& instance() noexcept;

    /// Makes table::Buffer allocate here from now on, on NUMA `socket` (-1: any socket, and
    /// any socket too when `socket` has no memory left). Needs EAL up. False, and nothing
    /// installed, when EAL runs without hugepages (--no-huge): its heap is then ordinary pages,
    /// no better than the default path's transparent huge pages.
    bool install(int socket) noexcept;
    /// Uninstalls; from now on release() only counts. Called by Eal before rte_eal_cleanup().
    void retire() noexcept;

    void* allocate(std::size_t size) noexcept override;
    void release(void* block, std::size_t size) noexcept override;
    const char* name() const noexcept override { return "dpdk-hugepages"; }

    /// Blocks released after retire(), left to the process exit.
    std::uint64_t released_after_cleanup() const noexcept { return late_releases_.load(); }

private:
    HugepageSource() = default;

    std::atomic<bool> live_{false};
    std::atomic<int> socket_{-1};
    std::atomic<std::uint64_t> late_releases_{0};
};

/// True when `p` lies in DPDK memory backed by hugepages (not --no-huge's ordinary pages).
bool in_dpdk_hugepages(const void* p) noexcept;

} // namespace idpath::dpdk
