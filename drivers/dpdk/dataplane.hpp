#pragma once
/// idpathd's DPDK data plane (DESIGN.md sections 2-3): EAL, the mbuf pool, every configured
/// device started with one queue per worker, and a run-to-completion loop on each worker lcore
/// polling one queue of every device. The main lcore (the caller's thread) keeps the control
/// plane: admin socket, TCP service, and a housekeeping thread (rte_ctrl_thread_create) that
/// publishes the clock the workers read. No DPDK header is included here.
///
/// Lifecycle: open() (EAL, pool, ports started, nothing polled yet) → launch() (workers run) →
/// stop() (workers return, counters stay readable) → destruction (ports closed, EAL cleaned up).
/// Thread-safety: every member function from the thread that called open(); the counters the
/// accessors expose are single-writer (a worker) and may be read from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/base/result.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/querylog/probe.hpp"
#include "dataplane/querylog/query_log.hpp"
#include "dataplane/querylog/target.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/worker/worker.hpp"
#include "drivers/dpdk/eal.hpp"

namespace idpath::dpdk {

class DpdkPort;

/// One device as configured: a PCI address or a vdev argument string.
struct DeviceOptions {
    std::string spec;
    /// ARP, neighbour solicitations and echo requests answered by the workers; off where the
    /// kernel shares the NIC and answers them itself (net_af_xdp, net_af_packet).
    bool answer_local = true;
    /// Traffic the workers do not serve goes to a net_tap exception interface (and the
    /// kernel's traffic comes back out of this device) instead of being dropped.
    bool exception = false;
};

struct DataplaneOptions {
    /// lcores, memory, hugepages, file prefix, log level. vdevs and allow are filled from
    /// `devices` by open().
    EalOptions eal;
    std::vector<DeviceOptions> devices;
    std::string exception_prefix = "idpx";
    std::uint16_t rx_ring = 1024;
    std::uint16_t tx_ring = 1024;
    /// Service ports and our addresses; each device's MAC is filled in by open().
    packet::PacketConfig packet;
    /// A worker that found nothing to do for a while sleeps this long before polling again
    /// (0: busy-poll always, the lowest latency).
    std::uint32_t idle_sleep_us = 0;
    /// Query log: one ring and source per worker lcore, in worker order (lcore_stats() order);
    /// lcores without an entry, or with a null ring, log nothing. The worker count is known
    /// only after open(): set_query_logs() replaces these before launch().
    std::vector<querylog::Target> query_logs;
    /// Probe mode: one probe ring per worker lcore, in the same order (set_probes() likewise).
    std::vector<querylog::ProbeTarget> probes;
};

/// One started ethdev.
struct DeviceInfo {
    std::string spec;   // as configured (the exception taps: what open() made up)
    std::string name;   // the ethdev name ("net_af_xdp0", "0000:01:00.0")
    std::string driver; // the PMD ("net_af_xdp", "net_ice")
    std::uint16_t port_id = 0;
    int numa_socket = -1; // the device's NUMA node (rte_eth_dev_socket_id), -1 if unknown
    packet::MacAddress mac{};
    std::uint16_t queues = 0;
    bool rss = false;
    bool answer_local = true;
    /// For an exception tap, the index in devices() of the device it serves; -1 otherwise.
    int exception_of = -1;
    std::string exception_interface; // a configured device's tap, if any
};

/// rte_eth_stats of one device.
struct PortCounters {
    std::uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0;
    std::uint64_t imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
};

class Dataplane {
public:
    /// Initialises EAL, creates the pool and configures and starts every device (and its
    /// exception tap) with one queue per worker lcore. The error names the device and the call.
    static Result<std::unique_ptr<Dataplane>, std::string> open(DataplaneOptions options);
    ~Dataplane();
    Dataplane(const Dataplane&) = delete;
    Dataplane& operator=(const Dataplane&) = delete;

    /// The query-log rings of the worker lcores, as DataplaneOptions::query_logs; before
    /// launch() only (the lcores' logs are made there).
    void set_query_logs(std::vector<querylog::Target> logs) { query_logs_ = std::move(logs); }
    /// The probe rings of the worker lcores, as DataplaneOptions::probes; before launch() only.
    void set_probes(std::vector<querylog::ProbeTarget> probes) { probes_ = std::move(probes); }

    /// Recursive role: every worker launch() makes punts misses with REC set into queues of
    /// `entries` misses and as many reply frames (dataplane/worker/punt.hpp); before launch() only.
    void enable_punt(std::size_t entries) { punt_entries_ = entries; }
    /// The workers' punt queues, in lcore_stats() order (lcore, then device); empty unless
    /// enable_punt(). After launch(); valid until destruction.
    std::vector<worker::PuntQueues*> punt_queues() const;

    /// Starts the housekeeping thread and one loop per worker lcore answering from `table`.
    /// `policy` and `table` must stay valid until stop() returns (or a publish() replaces it).
    Result<bool, std::string> launch(resolve::PolicyRef policy, const table::Table* table);
    /// Makes the workers answer from `table`; returns once none can still be reading the old
    /// one (RCU quiescent-state based reclamation), so the caller may then free it.
    void publish(const table::Table* table);
    /// Stops the workers and the housekeeping thread; idempotent. Ports stay open (and
    /// counters readable) until destruction.
    void stop();

    const std::vector<DeviceInfo>& devices() const noexcept { return devices_; }
    PortCounters port_counters(std::size_t device) const;

    /// One worker's view of one queue, for the admin API.
    struct QueueStats {
        std::size_t device;
        std::uint16_t queue;
        const worker::WorkerStats* stats;
        std::uint64_t scattered_dropped; // multi-segment frames the port freed unseen
    };
    struct LcoreStats {
        unsigned lcore;
        std::uint64_t loops;
        std::vector<QueueStats> queues;
        /// The lcore's query-log counters (produced, lost); all zero when it logs nothing.
        const querylog::QueryLogStats* query_log = nullptr;
        /// The lcore's probe counters; all zero when it captures nothing.
        const querylog::ProbeStats* probe = nullptr;
    };
    std::vector<LcoreStats> lcore_stats() const;
    unsigned worker_count() const noexcept;
    unsigned main_lcore() const noexcept;
    const std::vector<std::string>& eal_arguments() const noexcept { return eal_args_; }

    /// Internal: what the lcore loops share and own (dataplane.cpp).
    struct Lcore;
    struct Shared;

private:
    Dataplane() = default;

    std::unique_ptr<Eal> eal_;
    std::vector<std::string> eal_args_;
    std::unique_ptr<Shared> shared_;
    std::vector<DeviceInfo> devices_;
    packet::PacketConfig packet_config_;
    std::vector<querylog::Target> query_logs_;
    std::vector<querylog::ProbeTarget> probes_;
    std::size_t punt_entries_ = 0;
    std::vector<std::unique_ptr<Lcore>> lcores_;
    bool launched_ = false;
};

} // namespace idpath::dpdk
