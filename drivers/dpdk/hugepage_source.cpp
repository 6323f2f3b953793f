#include "drivers/dpdk/hugepage_source.hpp"

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <new>

namespace idpath::dpdk {

HugepageSource& HugepageSource::instance() noexcept
{
    // Never destroyed: Buffers may be freed during static destruction, after main returns.
    static HugepageSource* const source = new HugepageSource();
    return *source;
}

bool HugepageSource::install(int socket) noexcept
{
    if (!rte_eal_has_hugepages())
        return false;
    socket_.store(socket < 0 ? SOCKET_ID_ANY : socket);
    live_.store(true);
    table::set_block_source(this);
    return true;
}

void HugepageSource::retire() noexcept
{
    if (table::block_source() == this)
        table::set_block_source(nullptr);
    live_.store(false);
}

void* HugepageSource::allocate(std::size_t size) noexcept
{
    if (!live_.load(std::memory_order_acquire))
        return nullptr;
    const int socket = socket_.load(std::memory_order_relaxed);
    void* p = rte_zmalloc_socket("idpath_table", size, 64, socket);
    // A table spilling to the other node is slower; one in anonymous memory, slower still.
    if (p == nullptr && socket != SOCKET_ID_ANY)
        p = rte_zmalloc_socket("idpath_table", size, 64, SOCKET_ID_ANY);
    return p;
}

void HugepageSource::release(void* block, std::size_t) noexcept
{
    if (live_.load(std::memory_order_acquire))
        rte_free(block);
    else
        late_releases_.fetch_add(1, std::memory_order_relaxed);
}

bool in_dpdk_hugepages(const void* p) noexcept
{
    const rte_memseg_list* msl = rte_mem_virt2memseg_list(p);
    return msl != nullptr && !msl->external && msl->page_sz > 4096 && rte_mem_virt2memseg(p, msl) != nullptr;
}

} // namespace idpath::dpdk
