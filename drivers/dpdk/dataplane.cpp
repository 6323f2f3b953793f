#include "drivers/dpdk/dataplane.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "dataplane/querylog/clock.hpp"
#include "drivers/dpdk/dpdk_port.hpp"

namespace idpath::dpdk {

using DpdkWorker = worker::Worker<DpdkPort>;

/// What every lcore reads: the table, the clock, the stop flag. The clock and the stop flag
/// are written by the control side only; the workers never write here except through QSBR.
struct Dataplane::Shared {
    std::atomic<const table::Table*> table{nullptr};
    std::atomic<std::uint32_t> now_unix{0};
    std::atomic<std::uint64_t> now_ms{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> housekeeping_stop{false};
    rte_rcu_qsbr* qsbr = nullptr;
    pthread_t housekeeping{};
    bool housekeeping_running = false;
    std::uint32_t idle_sleep_us = 0;
    std::unique_ptr<Mempool> pool;
    std::vector<std::unique_ptr<DpdkPortSet>> ports; // by device index

    ~Shared() { rte_free(qsbr); }
};

/// One worker lcore: a Worker per device queue it polls, all writing to the lcore's query log
/// (one producer per ring).
struct Dataplane::Lcore {
    unsigned lcore_id = 0;
    unsigned thread_id = 0; // this lcore's QSBR thread id
    Shared* shared = nullptr;
    std::vector<std::size_t> device_of; // parallel to workers
    std::vector<std::uint16_t> queue_of;
    std::vector<std::unique_ptr<DpdkWorker>> workers;
    std::vector<std::unique_ptr<worker::PuntQueues>> punts; // parallel to workers; recursive role
    Counter loops;
    std::unique_ptr<querylog::QueryLog> log; // a disabled one when the lcore logs nothing
    std::unique_ptr<querylog::Probe> probe;  // a disabled one when the lcore captures nothing
};

namespace {

constexpr std::uint64_t kExpireEveryMs = 100;
constexpr unsigned kIdlePollsBeforeSleep = 1024;

std::uint64_t monotonic_ms()
{
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

/// The worker loop (DESIGN.md section 3). Nothing here allocates, locks or logs; the only
/// syscall is the optional idle sleep, taken when no queue had a packet for a while.
int worker_main(void* arg)
{
    auto& lc = *static_cast<Dataplane::Lcore*>(arg);
    Dataplane::Shared& sh = *lc.shared;
    rte_rcu_qsbr_thread_register(sh.qsbr, lc.thread_id);
    rte_rcu_qsbr_thread_online(sh.qsbr, lc.thread_id);
    std::uint64_t next_expire = 0;
    unsigned idle = 0;
    while (!sh.stop.load(std::memory_order_relaxed)) {
        const table::Table* table = sh.table.load(std::memory_order_acquire);
        const std::uint32_t now_unix = sh.now_unix.load(std::memory_order_relaxed);
        const std::uint64_t now_ms = sh.now_ms.load(std::memory_order_relaxed);
        std::size_t got = 0;
        for (auto& w : lc.workers)
            got += w->poll_once(*table, now_unix, now_ms);
        if (now_ms >= next_expire) {
            for (auto& w : lc.workers)
                w->expire(now_ms);
            next_expire = now_ms + kExpireEveryMs;
        }
        // The table pointer read above is no longer used: a publish() may free the old one once
        // every worker has passed this point.
        rte_rcu_qsbr_quiescent(sh.qsbr, lc.thread_id);
        lc.loops.add();
        if (got != 0) {
            idle = 0;
        } else if (sh.idle_sleep_us != 0 && ++idle >= kIdlePollsBeforeSleep) {
            rte_delay_us_sleep(sh.idle_sleep_us);
        }
    }
    rte_rcu_qsbr_thread_offline(sh.qsbr, lc.thread_id);
    rte_rcu_qsbr_thread_unregister(sh.qsbr, lc.thread_id);
    return 0;
}

/// The clock the workers read: published every millisecond so the hot path makes no
/// clock_gettime calls of its own.
void* housekeeping_main(void* arg)
{
    auto& sh = *static_cast<Dataplane::Shared*>(arg);
    while (!sh.housekeeping_stop.load(std::memory_order_relaxed)) {
        sh.now_unix.store(static_cast<std::uint32_t>(std::time(nullptr)),
                          std::memory_order_relaxed);
        sh.now_ms.store(monotonic_ms(), std::memory_order_relaxed);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return nullptr;
}

bool is_pci(const std::string& spec)
{
    return !spec.starts_with("net_");
}

/// The ethdev name of a device spec: a vdev's name is its first field, a PCI device's its
/// address as EAL writes it (domain included).
std::string ethdev_name(const std::string& spec)
{
    const std::string first = spec.substr(0, spec.find(','));
    if (is_pci(first) && std::count(first.begin(), first.end(), ':') == 1)
        return "0000:" + first;
    return first;
}

Result<std::uint16_t, std::string> port_of(const std::string& spec)
{
    std::uint16_t port = 0;
    const std::string name = ethdev_name(spec);
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0)
        return Err{name + ": EAL created no port for it (" +
                   (is_pci(spec) ? "is the device bound to vfio-pci?" : "check the vdev arguments") +
                   ")"};
    return port;
}

Err<std::string> eth_error(const std::string& name, const char* what, int rc)
{
    return Err{name + ": " + what + ": " + rte_strerror(rc < 0 ? -rc : rc)};
}

} // namespace

Result<std::unique_ptr<Dataplane>, std::string> Dataplane::open(DataplaneOptions o)
{
    if (o.devices.empty())
        return Err{std::string("dataplane.devices: no device to poll")};
    std::unique_ptr<Dataplane> dp(new Dataplane());
    bool any_pci = false;
    for (std::size_t i = 0; i < o.devices.size(); ++i) {
        const DeviceOptions& d = o.devices[i];
        if (is_pci(d.spec)) {
            any_pci = true;
            o.eal.allow.push_back(d.spec);
        } else {
            o.eal.vdevs.push_back(d.spec);
        }
        if (d.exception)
            o.eal.vdevs.push_back("net_tap_exc" + std::to_string(i) + ",iface=" +
                                  o.exception_prefix + std::to_string(i));
    }
    o.eal.no_pci = !any_pci;
    dp->eal_args_ = dpdk::eal_arguments(o.eal);
    auto eal = Eal::init(o.eal);
    if (!eal)
        return Err{eal.error()};
    dp->eal_ = std::move(*eal);

    const unsigned workers = rte_lcore_count() - 1;
    if (workers == 0)
        return Err{"dataplane.lcores: \"" + o.eal.lcores +
                   "\" gives one lcore; the first runs the control plane, so at least two are needed"};

    dp->shared_ = std::make_unique<Shared>();
    Shared& sh = *dp->shared_;
    sh.idle_sleep_us = o.idle_sleep_us;

    // Resolve every configured device (and its tap) to a port and its queue count first, so
    // the pool can be sized for all of them.
    struct Plan {
        DeviceInfo info;
    };
    std::vector<Plan> plans;
    for (std::size_t i = 0; i < o.devices.size(); ++i) {
        const std::string tap = "net_tap_exc" + std::to_string(i);
        for (const bool exception_tap : {false, true}) {
            if (exception_tap && !o.devices[i].exception)
                continue;
            Plan p;
            p.info.spec = exception_tap ? tap : o.devices[i].spec;
            p.info.answer_local = o.devices[i].answer_local;
            auto port = port_of(p.info.spec);
            if (!port)
                return Err{port.error()};
            p.info.port_id = *port;
            p.info.numa_socket = rte_eth_dev_socket_id(*port);
            p.info.name = ethdev_name(p.info.spec);
            rte_eth_dev_info info{};
            if (int rc = rte_eth_dev_info_get(*port, &info); rc != 0)
                return eth_error(p.info.name, "rte_eth_dev_info_get", rc);
            p.info.driver = info.driver_name ? info.driver_name : "";
            p.info.queues = static_cast<std::uint16_t>(
                std::min<unsigned>({workers, info.max_rx_queues, info.max_tx_queues}));
            if (p.info.queues == 0)
                return Err{p.info.name + ": the device offers no RX/TX queue pair"};
            if (exception_tap) {
                // The tap follows its device in plans (and so in devices()).
                p.info.exception_of = static_cast<int>(plans.size() - 1);
                plans.back().info.exception_interface = o.exception_prefix + std::to_string(i);
            }
            plans.push_back(std::move(p));
        }
    }
    unsigned queue_pairs = 0;
    for (const auto& p : plans)
        queue_pairs += p.info.queues;
    auto pool = Mempool::create("idpath_mbufs", Mempool::size_for(queue_pairs, o.rx_ring, o.tx_ring,
                                                                  workers));
    if (!pool)
        return Err{pool.error() + " (raise dataplane.memory_mb or lower the ring sizes)"};
    sh.pool = std::move(*pool);

    for (auto& p : plans) {
        PortConfig pc;
        pc.port_id = p.info.port_id;
        pc.queues = p.info.queues;
        pc.rx_ring = o.rx_ring;
        pc.tx_ring = o.tx_ring;
        // A tap sees the kernel's traffic for our MAC only if it is promiscuous; devices are
        // addressed by their own MAC.
        pc.promiscuous = p.info.exception_of >= 0;
        auto set = configure_port(pc, *sh.pool);
        if (!set)
            return Err{set.error()};
        p.info.rss = (*set)->rss();
        rte_ether_addr mac{};
        if (int rc = rte_eth_macaddr_get(p.info.port_id, &mac); rc != 0)
            return eth_error(p.info.name, "rte_eth_macaddr_get", rc);
        std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), p.info.mac.begin());
        sh.ports.push_back(std::move(*set));
    }
    // The kernel's side of an exception tap speaks with the device's MAC, so what it sends out
    // through the device is addressed as the device itself.
    for (auto& p : plans) {
        if (p.info.exception_of < 0)
            continue;
        p.info.mac = plans[static_cast<std::size_t>(p.info.exception_of)].info.mac;
        rte_ether_addr mac{};
        std::copy(p.info.mac.begin(), p.info.mac.end(), mac.addr_bytes);
        if (int rc = rte_eth_dev_default_mac_addr_set(p.info.port_id, &mac); rc != 0)
            return eth_error(p.info.name, "setting the exception tap's MAC", rc);
    }
    for (auto& p : plans)
        dp->devices_.push_back(p.info);
    dp->packet_config_ = o.packet;
    dp->query_logs_ = std::move(o.query_logs);
    dp->probes_ = std::move(o.probes);

    // Workers: lcore w polls queue w of every device with more than w queues.
    const std::size_t qsbr_size = rte_rcu_qsbr_get_memsize(workers);
    sh.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("idpath_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
    if (sh.qsbr == nullptr || rte_rcu_qsbr_init(sh.qsbr, workers) != 0)
        return Err{std::string("RCU: ") + rte_strerror(rte_errno)};
    unsigned lcore_id = 0;
    unsigned w = 0;
    RTE_LCORE_FOREACH_WORKER(lcore_id)
    {
        auto lc = std::make_unique<Lcore>();
        lc->lcore_id = lcore_id;
        lc->thread_id = w;
        lc->shared = &sh;
        dp->lcores_.push_back(std::move(lc));
        ++w;
    }
    return dp;
}

Result<bool, std::string> Dataplane::launch(resolve::PolicyRef policy,
                                            const table::Table* table)
{
    if (launched_)
        return Err{std::string("the data plane is already running")};
    Shared& sh = *shared_;
    sh.table.store(table, std::memory_order_release);
    sh.now_unix.store(static_cast<std::uint32_t>(std::time(nullptr)));
    sh.now_ms.store(monotonic_ms());
    // Workers are built here, not in open(), so each is allocated after the policy exists; one
    // per (lcore, device queue), with the device's MAC and whether it answers ARP and pings.
    for (auto& lc : lcores_) {
        if (!lc->log) {
            const querylog::Target log = lc->thread_id < query_logs_.size()
                                             ? query_logs_[lc->thread_id]
                                             : querylog::Target{};
            lc->log = std::make_unique<querylog::QueryLog>(log.ring, log.source, log.heartbeat_ns);
        }
        if (!lc->probe)
            lc->probe = std::make_unique<querylog::Probe>(
                lc->thread_id < probes_.size() ? probes_[lc->thread_id] : querylog::ProbeTarget{});
        for (std::size_t d = 0; d < devices_.size(); ++d) {
            const DeviceInfo& dev = devices_[d];
            if (dev.exception_of >= 0 || lc->thread_id >= dev.queues)
                continue;
            packet::PacketConfig pc = packet_config_;
            pc.mac = dev.mac;
            DpdkPort* exception = nullptr;
            for (std::size_t t = 0; t < devices_.size(); ++t)
                if (devices_[t].exception_of == static_cast<int>(d) &&
                    lc->thread_id < devices_[t].queues)
                    exception = &shared_->ports[t]->queue(lc->thread_id);
            DpdkPort& port = shared_->ports[d]->queue(lc->thread_id);
            lc->workers.push_back(std::make_unique<DpdkWorker>(port, pc, policy,
                                                               wire::ReassemblyLimits{}, exception));
            lc->workers.back()->set_answer_local(dev.answer_local);
            lc->workers.back()->set_query_log(lc->log.get(), &querylog::realtime_ns);
            lc->workers.back()->set_probe(lc->probe.get(), &querylog::realtime_ns);
            if (punt_entries_ > 0) {
                lc->punts.push_back(std::make_unique<worker::PuntQueues>(punt_entries_, punt_entries_));
                lc->workers.back()->set_punt(lc->punts.back().get());
            }
            lc->device_of.push_back(d);
            lc->queue_of.push_back(lc->thread_id);
        }
    }
    sh.housekeeping_stop = false;
    if (int rc = rte_ctrl_thread_create(&sh.housekeeping, "idpath-clock", nullptr,
                                        housekeeping_main, &sh);
        rc != 0)
        return Err{std::string("rte_ctrl_thread_create: ") + rte_strerror(rc)};
    sh.housekeeping_running = true;
    sh.stop = false;
    for (auto& lc : lcores_)
        if (int rc = rte_eal_remote_launch(worker_main, lc.get(), lc->lcore_id); rc != 0) {
            stop();
            return Err{"lcore " + std::to_string(lc->lcore_id) + ": rte_eal_remote_launch: " +
                       rte_strerror(-rc)};
        }
    launched_ = true;
    return true;
}

void Dataplane::publish(const table::Table* table)
{
    shared_->table.store(table, std::memory_order_release);
    if (launched_)
        rte_rcu_qsbr_synchronize(shared_->qsbr, RTE_QSBR_THRID_INVALID);
}

void Dataplane::stop()
{
    if (!shared_)
        return;
    Shared& sh = *shared_;
    sh.stop.store(true, std::memory_order_relaxed);
    rte_eal_mp_wait_lcore();
    launched_ = false;
    if (sh.housekeeping_running) {
        sh.housekeeping_stop = true;
        pthread_join(sh.housekeeping, nullptr);
        sh.housekeeping_running = false;
    }
}

Dataplane::~Dataplane()
{
    stop();
    // Workers hold port references; ports hold pool mbufs; EAL goes last (member order).
    lcores_.clear();
    shared_.reset();
}

PortCounters Dataplane::port_counters(std::size_t device) const
{
    PortCounters c;
    rte_eth_stats s{};
    if (device < devices_.size() && rte_eth_stats_get(devices_[device].port_id, &s) == 0) {
        c.ipackets = s.ipackets;
        c.opackets = s.opackets;
        c.ibytes = s.ibytes;
        c.obytes = s.obytes;
        c.imissed = s.imissed;
        c.ierrors = s.ierrors;
        c.oerrors = s.oerrors;
        c.rx_nombuf = s.rx_nombuf;
    }
    return c;
}

std::vector<Dataplane::LcoreStats> Dataplane::lcore_stats() const
{
    std::vector<LcoreStats> out;
    for (const auto& lc : lcores_) {
        LcoreStats s{lc->lcore_id, lc->loops.get(), {}, lc->log ? &lc->log->stats() : nullptr,
                     lc->probe ? &lc->probe->stats() : nullptr};
        for (std::size_t i = 0; i < lc->workers.size(); ++i)
            s.queues.push_back({lc->device_of[i], lc->queue_of[i], &lc->workers[i]->stats(),
                                shared_->ports[lc->device_of[i]]
                                    ->queue(lc->queue_of[i])
                                    .scattered_dropped()});
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<worker::PuntQueues*> Dataplane::punt_queues() const
{
    std::vector<worker::PuntQueues*> out;
    for (const auto& lc : lcores_)
        for (const auto& q : lc->punts)
            out.push_back(q.get());
    return out;
}

unsigned Dataplane::worker_count() const noexcept
{
    return static_cast<unsigned>(lcores_.size());
}

unsigned Dataplane::main_lcore() const noexcept
{
    return rte_get_main_lcore();
}

} // namespace idpath::dpdk
