#pragma once
/// idpathd in `dataplane.mode: dpdk` (docs/dpdk.md): turns the config into DPDK data plane
/// options, prepares what the devices need from the kernel (the XDP program for net_af_xdp,
/// the kernel's addresses, a silent socket for net_af_packet), runs the workers and reports
/// their counters. Built only with DPDK; without it open() fails saying so.
///
/// Lifecycle: open() (EAL, ports, XDP; with hugepages, table::Buffer allocates from DPDK's heap
/// from then on) → the caller builds its table → launch() (workers answer from it) → stop()
/// (workers return) → the caller frees every table → close() or destruction (ports closed, EAL
/// cleaned up: DPDK memory is gone after that).
/// Thread-safety: open/launch/stop/close/publish from one control thread at a time;
/// status()/stats() from the admin thread (they read single-writer counters).

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/app/dataplane_config.hpp"
#include "controlplane/config/config.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/querylog/probe.hpp"
#include "dataplane/querylog/target.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/worker/punt.hpp"

namespace idpath::app {

class DpdkMode {
public:
    /// Initialises EAL and starts the ports; no worker polls yet. With dataplane.hugepages,
    /// installs the hugepage BlockSource (on the first device's NUMA node) for the tables
    /// built from now on.
    static Result<std::unique_ptr<DpdkMode>, std::string> open(const config::Config& cfg);
    ~DpdkMode();
    DpdkMode(const DpdkMode&) = delete;
    DpdkMode& operator=(const DpdkMode&) = delete;

    /// Starts the workers answering from `table`. `policy` and `table` must stay valid until
    /// stop() (or a publish() replaces the table).
    Result<bool, std::string> launch(resolve::PolicyRef policy, const table::Table* table);

    /// Worker lcores, known from open() on.
    std::size_t worker_count() const;
    /// One query-log target per worker lcore, in worker order (the log mirror); before launch().
    void set_query_logs(std::vector<querylog::Target> logs);
    /// Worker `w`'s query-log counters; after launch().
    const querylog::QueryLogStats* query_log_stats(std::size_t w) const;
    /// One probe target per worker lcore (probe mode); before launch().
    void set_probes(std::vector<querylog::ProbeTarget> probes);
    /// Worker `w`'s probe counters; after launch().
    const querylog::ProbeStats* probe_stats(std::size_t w) const;

    /// Recursive role: the workers punt misses into queues of `entries` (before launch()), found
    /// by punt_queues() after it, one per worker and device queue, valid until close().
    void enable_punt(std::size_t entries);
    std::vector<worker::PuntQueues*> punt_queues() const;

    /// Stops the workers; ports and counters stay. Idempotent.
    void stop();
    /// stop(), then closes the ports (a net_pcap output is flushed, DPDK detaches the XDP
    /// program) and cleans EAL up. Free every table built since open() first. Idempotent.
    void close();

    /// Makes the workers answer from `table`; returns once no worker can still be reading the
    /// previous one (rte_rcu_qsbr), so the caller may free it. Main (control) thread.
    void publish(const table::Table* table);

    nlohmann::json status() const;
    /// Per-lcore, per-queue worker counters, per-device NIC counters, XDP counters; `total`
    /// receives the resolver counters of every worker added in.
    nlohmann::json stats(nlohmann::json& total) const;

    struct State;

private:
    explicit DpdkMode(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

/// True when this idpathd was built with DPDK.
bool dpdk_available();

} // namespace idpath::app
