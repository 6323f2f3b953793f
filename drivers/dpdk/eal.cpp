#include "drivers/dpdk/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <atomic>

#include "drivers/dpdk/hugepage_source.hpp"

namespace idpath::dpdk {
namespace {

// EAL can be initialised once per process; a second rte_eal_init fails with EALREADY.
std::atomic<bool> g_live{false};

} // namespace

std::vector<std::string> eal_arguments(const EalOptions& o)
{
    std::vector<std::string> a{"idpathd", "--file-prefix=" + o.file_prefix, "--lcores=" + o.lcores,
                               "--log-level=" + std::to_string(o.log_level)};
    if (o.no_huge)
        a.emplace_back("--no-huge");
    if (o.memory_mb)
        a.push_back("-m" + std::to_string(o.memory_mb));
    if (o.no_pci)
        a.emplace_back("--no-pci");
    for (const auto& d : o.allow)
        a.push_back("--allow=" + d);
    // --no-huge implies legacy memory, which EAL refuses with --in-memory; without hugepages
    // there are no hugepage files anyway, so --no-shconf is all that is left to ask for.
    if (o.in_memory)
        a.emplace_back(o.no_huge ? "--no-shconf" : "--in-memory");
    for (const auto& v : o.vdevs)
        a.push_back("--vdev=" + v);
    return a;
}

Result<std::unique_ptr<Eal>, std::string> Eal::init(const EalOptions& o)
{
    if (g_live.exchange(true))
        return Err{std::string("EAL is already initialised in this process")};
    std::vector<std::string> args = eal_arguments(o);
    std::vector<char*> argv;
    for (auto& s : args)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
        g_live = false;
        return Err{std::string("rte_eal_init: ") + rte_strerror(rte_errno)};
    }
    return std::unique_ptr<Eal>(new Eal());
}

Eal::~Eal()
{
    // Cleanup unmaps the heap: no table block may be rte_free()d after this.
    HugepageSource::instance().retire();
    rte_eal_cleanup();
    // DPDK 22.11 cannot initialise EAL again after cleanup; g_live stays set on purpose.
}

std::uint16_t Eal::port_count() const
{
    return rte_eth_dev_count_avail();
}

std::string Eal::port_name(std::uint16_t port) const
{
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    if (rte_eth_dev_get_name_by_port(port, name) != 0)
        return {};
    return name;
}

unsigned Eal::lcore_count() const
{
    return rte_lcore_count();
}

} // namespace idpath::dpdk
