#include "controlplane/app/dpdk_mode.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "controlplane/app/stats_json.hpp"
#include "controlplane/log/log.hpp"
#include "dataplane/wire/constants.hpp"
#include "drivers/dpdk/dataplane.hpp"
#include "drivers/dpdk/hugepage_source.hpp"
#include "drivers/xdp/xdp_adopt.hpp"

namespace idpath::app {

using nlohmann::json;

namespace {

enum class DeviceKind { Pci, AfXdp, AfPacket, Tap, OtherVdev };

DeviceKind kind_of(const std::string& spec)
{
    if (spec.starts_with("net_af_xdp"))
        return DeviceKind::AfXdp;
    if (spec.starts_with("net_af_packet"))
        return DeviceKind::AfPacket;
    if (spec.starts_with("net_tap"))
        return DeviceKind::Tap;
    if (spec.starts_with("net_"))
        return DeviceKind::OtherVdev;
    return DeviceKind::Pci;
}

std::string mac_text(const packet::MacAddress& m)
{
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return s;
}

/// The addresses the kernel has on `iface` now: what a shared NIC (AF_XDP, AF_PACKET) is
/// reached at, so the workers answer for them unless the config names others.
void kernel_addresses(const std::string& iface, std::vector<std::string>& v4,
                      std::vector<std::string>& v6)
{
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0)
        return;
    for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr || iface != a->ifa_name)
            continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (a->ifa_addr->sa_family == AF_INET) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
            inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
            v4.emplace_back(text);
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
            inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
            v6.emplace_back(text);
        }
    }
    freeifaddrs(list);
}

/// A UDP socket on `port` (IPv4 and IPv6) that is never read. On net_af_packet the kernel sees
/// every query too; without a socket it would answer each with ICMP port unreachable, which a
/// connected client takes as a refusal before idpath's answer arrives.
Result<int, std::string> silent_socket(std::uint16_t port)
{
    const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return Err{std::string("socket: ") + std::strerror(errno)};
    const int off = 0;
    const int small = 1; // the kernel rounds it up to its minimum
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_any;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd);
        return Err{"bind [::]:" + std::to_string(port) + ": " + std::strerror(e)};
    }
    return fd;
}

} // namespace

struct DpdkMode::State {
    std::unique_ptr<dpdk::Dataplane> dataplane;
    std::vector<xdp::AdoptedProgram> xdp;
    std::vector<int> silent_fds;
    std::vector<std::string> ipv4, ipv6;
    std::vector<std::uint16_t> ports;

    ~State()
    {
        for (int fd : silent_fds)
            ::close(fd);
    }
};

DpdkMode::DpdkMode(std::unique_ptr<State> state) : state_(std::move(state)) {}

DpdkMode::~DpdkMode()
{
    close();
}

bool dpdk_available()
{
    return true;
}

Result<std::unique_ptr<DpdkMode>, std::string> DpdkMode::open(const config::Config& cfg)
{
    const config::Config::Dataplane& c = cfg.dataplane;
    auto st = std::make_unique<State>();
    st->ports = dataplane_ports(cfg);

    dpdk::DataplaneOptions o;
    o.eal.file_prefix = c.file_prefix;
    o.eal.lcores = c.lcores;
    o.eal.no_huge = !c.hugepages;
    o.eal.memory_mb = c.memory_mb;
    o.eal.log_level = c.log_level;
    o.eal.in_memory = true;
    o.rx_ring = static_cast<std::uint16_t>(c.rx_ring);
    o.tx_ring = static_cast<std::uint16_t>(c.tx_ring);
    o.idle_sleep_us = c.idle_sleep_us;
    o.exception_prefix = c.exception_prefix;

    xdp::XdpOptions xo;
    xo.ports = st->ports;
    std::vector<std::string> adopt;
    std::vector<std::string> v4 = c.ipv4, v6 = c.ipv6;
    const bool kernel_addrs = v4.empty() && v6.empty();
    bool af_packet = false;
    for (const auto& spec : c.devices) {
        const DeviceKind kind = kind_of(spec);
        const std::string iface = vdev_iface(spec);
        dpdk::DeviceOptions d;
        d.spec = spec;
        const bool shared_nic = kind == DeviceKind::AfXdp || kind == DeviceKind::AfPacket;
        d.answer_local = c.neighbors == "answer" || (c.neighbors == "auto" && !shared_nic);
        d.exception = c.other_traffic == "exception" && (kind == DeviceKind::Pci || kind == DeviceKind::Tap);
        if (shared_nic && iface.empty())
            return Err{"dataplane.devices: " + spec + ": needs iface=<interface>"};
        if (kind == DeviceKind::AfXdp && !has_vdev_arg(spec, "xdp_prog")) {
            if (auto r = xdp::write_program_object(c.xdp_object); !r)
                return Err{"dataplane.xdp_object: " + r.error().message};
            if (auto r = xdp::clear_stale(iface, false); !r)
                return Err{iface + ": " + r.error().message};
            d.spec += ",xdp_prog=" + c.xdp_object;
            adopt.push_back(iface);
        }
        if (kind == DeviceKind::AfPacket)
            af_packet = true;
        if (kernel_addrs && !iface.empty())
            kernel_addresses(iface, v4, v6);
        o.devices.push_back(std::move(d));
    }
    if (af_packet && !cfg.service.udp.empty())
        return Err{std::string("service.udp must be [] with a net_af_packet device: the kernel sees "
                               "every query there too, and both would answer")};
    if (v4.empty() && v6.empty())
        return Err{std::string("dataplane: no address to answer on (set dataplane.ipv4/ipv6, or "
                               "give the devices' iface= addresses)")};
    if (auto r = add_addresses(o.packet, v4, v6); !r)
        return Err{"dataplane: " + r.error()};
    st->ipv4 = v4;
    st->ipv6 = v6;
    o.packet.port_count = 0;
    for (const auto p : st->ports)
        if (o.packet.port_count < packet::PacketConfig::kMaxPorts)
            o.packet.ports[o.packet.port_count++] = p;

    auto dp = dpdk::Dataplane::open(std::move(o));
    if (!dp)
        return Err{"dataplane: " + dp.error()};
    st->dataplane = std::move(*dp);
    for (const auto& iface : adopt) {
        auto prog = xdp::adopt_attached(iface, xo);
        if (!prog)
            return Err{iface + ": " + prog.error().message};
        log::info(iface, ": XDP program ", prog->prog_id(), " (", xdp::to_string(prog->mode()),
                  ") steers UDP to the AF_XDP sockets");
        st->xdp.push_back(std::move(*prog));
    }
    if (af_packet)
        for (const auto p : st->ports) {
            auto fd = silent_socket(p);
            if (!fd)
                return Err{"dataplane: the silent socket for net_af_packet: " + fd.error()};
            st->silent_fds.push_back(*fd);
        }
    // The workers read the table on the lcores polling the first device: its node.
    const int socket = st->dataplane->devices().front().numa_socket;
    if (c.hugepages && dpdk::HugepageSource::instance().install(socket))
        log::info("table memory: DPDK hugepages", socket >= 0 ? ", NUMA node " + std::to_string(socket) : "");
    return std::unique_ptr<DpdkMode>(new DpdkMode(std::move(st)));
}

std::size_t DpdkMode::worker_count() const
{
    return state_->dataplane->worker_count();
}

void DpdkMode::set_query_logs(std::vector<querylog::Target> logs)
{
    state_->dataplane->set_query_logs(std::move(logs));
}

const querylog::QueryLogStats* DpdkMode::query_log_stats(std::size_t w) const
{
    const auto lcores = state_->dataplane->lcore_stats();
    return w < lcores.size() ? lcores[w].query_log : nullptr;
}

void DpdkMode::set_probes(std::vector<querylog::ProbeTarget> probes)
{
    state_->dataplane->set_probes(std::move(probes));
}

const querylog::ProbeStats* DpdkMode::probe_stats(std::size_t w) const
{
    const auto lcores = state_->dataplane->lcore_stats();
    return w < lcores.size() ? lcores[w].probe : nullptr;
}

void DpdkMode::enable_punt(std::size_t entries)
{
    state_->dataplane->enable_punt(entries);
}

std::vector<worker::PuntQueues*> DpdkMode::punt_queues() const
{
    return state_->dataplane->punt_queues();
}

Result<bool, std::string> DpdkMode::launch(resolve::PolicyRef policy, const table::Table* table)
{
    if (!state_ || !state_->dataplane)
        return Err{std::string("dataplane: not open")};
    if (auto r = state_->dataplane->launch(policy, table); !r)
        return Err{"dataplane: " + r.error()};
    std::string devs;
    for (const auto& d : state_->dataplane->devices())
        devs += (devs.empty() ? "" : ", ") + d.name + " (" + d.driver + ", " +
                std::to_string(d.queues) + " queue" + (d.queues == 1 ? "" : "s") + ")";
    log::info("dataplane: ", state_->dataplane->worker_count(), " worker lcore(s) polling ", devs);
    return true;
}

void DpdkMode::stop()
{
    if (state_ && state_->dataplane)
        state_->dataplane->stop();
}

void DpdkMode::close()
{
    if (!state_)
        return;
    // The workers first, then the ports (closing an AF_XDP port detaches the program, closing
    // a net_pcap port flushes its output), then EAL.
    stop();
    state_->xdp.clear();
    state_->dataplane.reset();
    state_.reset();
}

void DpdkMode::publish(const table::Table* table)
{
    // rte_rcu_qsbr_synchronize may run on any thread; the Daemon's mutex keeps publishes apart
    // and stop() after the last one.
    if (state_ && state_->dataplane)
        state_->dataplane->publish(table);
}

json DpdkMode::status() const
{
    json j;
    j["mode"] = "dpdk";
    if (!state_ || !state_->dataplane)
        return j;
    const auto& dp = *state_->dataplane;
    j["eal_arguments"] = dp.eal_arguments();
    j["main_lcore"] = dp.main_lcore();
    json lcores = json::array();
    for (const auto& l : dp.lcore_stats())
        lcores.push_back(l.lcore);
    j["worker_lcores"] = lcores;
    j["ports"] = state_->ports;
    j["ipv4"] = state_->ipv4;
    j["ipv6"] = state_->ipv6;
    json devices = json::array();
    for (const auto& d : dp.devices()) {
        json jd = {{"device", d.name},
                   {"driver", d.driver},
                   {"port", d.port_id},
                   {"mac", mac_text(d.mac)},
                   {"queues", d.queues},
                   {"rss", d.rss},
                   {"answers_arp_ndp_ping", d.exception_of < 0 && d.answer_local}};
        if (d.exception_of >= 0)
            jd["exception_for"] = dp.devices()[static_cast<std::size_t>(d.exception_of)].name;
        if (!d.exception_interface.empty())
            jd["exception_interface"] = d.exception_interface;
        devices.push_back(std::move(jd));
    }
    j["devices"] = devices;
    json progs = json::array();
    for (const auto& p : state_->xdp)
        progs.push_back({{"interface", p.ifname()},
                         {"prog_id", p.prog_id()},
                         {"mode", std::string(xdp::to_string(p.mode()))}});
    j["xdp"] = progs;
    return j;
}

json DpdkMode::stats(json& total) const
{
    json j;
    if (!state_ || !state_->dataplane)
        return j;
    const auto& dp = *state_->dataplane;
    json lcores = json::array();
    for (const auto& l : dp.lcore_stats()) {
        json queues = json::array();
        for (const auto& q : l.queues) {
            json jq = worker_stats_json(*q.stats);
            add_into(total, jq["answers"]);
            jq["device"] = dp.devices()[q.device].name;
            jq["queue"] = q.queue;
            // Frames larger than an mbuf (jumbo frames on a port without scatter): freed by
            // the port before the worker saw them, so counted apart from the worker's rx.
            jq["scattered_dropped"] = q.scattered_dropped;
            queues.push_back(std::move(jq));
        }
        lcores.push_back({{"lcore", l.lcore}, {"loops", l.loops}, {"queues", queues}});
    }
    j["lcores"] = lcores;
    json ports = json::array();
    for (std::size_t i = 0; i < dp.devices().size(); ++i) {
        const auto c = dp.port_counters(i);
        ports.push_back({{"device", dp.devices()[i].name},
                         {"ipackets", c.ipackets},
                         {"opackets", c.opackets},
                         {"ibytes", c.ibytes},
                         {"obytes", c.obytes},
                         {"imissed", c.imissed},
                         {"ierrors", c.ierrors},
                         {"oerrors", c.oerrors},
                         {"rx_nombuf", c.rx_nombuf}});
    }
    j["ports"] = ports;
    json progs = json::array();
    for (const auto& p : state_->xdp) {
        json jp = {{"interface", p.ifname()}};
        if (const auto c = p.counters()) {
            jp["redirected"] = c->redirected;
            jp["no_socket"] = c->no_socket;
            jp["not_ip"] = c->not_ip;
            jp["not_udp"] = c->not_udp;
            jp["other_port"] = c->other_port;
            jp["fragment"] = c->fragment;
            jp["malformed"] = c->malformed;
        }
        progs.push_back(std::move(jp));
    }
    j["xdp"] = progs;
    return j;
}

} // namespace idpath::app
