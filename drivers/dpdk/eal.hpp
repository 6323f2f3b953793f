#pragma once
/// DPDK's Environment Abstraction Layer, owned: arguments built from typed options, initialised
/// once per process, cleaned up on destruction. The rest of idpath never sees rte_* types; this
/// header includes no DPDK header.
///
/// Thread-safety: init() and destruction from the main thread only (DPDK's rule).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/base/result.hpp"

namespace idpath::dpdk {

struct EalOptions {
    /// Names this process's DPDK runtime files so several instances (and tests) can coexist.
    std::string file_prefix = "idpath";
    /// Cores for DPDK lcores, in EAL's --lcores syntax ("0", "0-3", "1@2").
    std::string lcores = "0";
    /// Run without hugepages (tests, small hosts); memory then comes from ordinary pages.
    bool no_huge = false;
    /// Memory to reserve in MiB (0: EAL's default).
    unsigned memory_mb = 0;
    /// Leave PCI devices alone (virtual devices only).
    bool no_pci = false;
    /// PCI devices to probe ("0000:01:00.0"); empty probes every device bound to a DPDK driver.
    std::vector<std::string> allow;
    /// Keep no runtime files at all (implies no multi-process).
    bool in_memory = true;
    /// Virtual devices, each in --vdev syntax: "net_null0", "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap".
    std::vector<std::string> vdevs;
    /// EAL log level (--log-level), 0-8.
    unsigned log_level = 5;
};

/// The argv EAL receives for `o`, program name first. Pure, for tests and for logging.
std::vector<std::string> eal_arguments(const EalOptions& o);

class Eal {
public:
    /// Initialises EAL; the error carries rte_strerror's text. Only one Eal may exist.
    static Result<std::unique_ptr<Eal>, std::string> init(const EalOptions& o);
    ~Eal();
    Eal(const Eal&) = delete;
    Eal& operator=(const Eal&) = delete;

    /// Ethernet ports EAL found (PCI devices bound to a DPDK driver, and vdevs).
    std::uint16_t port_count() const;
    /// The device name of a port ("net_null0", "0000:01:00.0"), empty if there is none.
    std::string port_name(std::uint16_t port) const;
    /// Lcores EAL runs.
    unsigned lcore_count() const;

private:
    Eal() = default;
};

} // namespace idpath::dpdk
