#include "perf/gun/xdp_setup.hpp"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "perf/gun/family.hpp"
#include "perf/gun/netdev.hpp"

namespace idpath::gun {
namespace {

constexpr std::uint32_t kNeighbourWaitMs = 3000;

/// Effective capability `cap` of this process (capget: no libcap dependency for one bit).
bool has_capability(int cap)
{
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &header, data) != 0)
        return false;
    return data[cap / 32].effective & (1u << (cap % 32));
}

std::string address_text(const packet::IpAddress& a, bool ipv6)
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, ipv6 ? a.data() : a.data() + 12, buf, sizeof buf);
    return buf;
}

} // namespace

std::string mac_text(const packet::MacAddress& mac)
{
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

Result<std::unique_ptr<XdpSetup>, SetupError> prepare_xdp(const Options& o, const socket::Endpoint& server,
                                                          const std::optional<socket::Endpoint>& server2)
{
    if (!has_capability(CAP_NET_RAW) || !has_capability(CAP_NET_ADMIN))
        return Err(SetupError{2, "--xdp needs root (CAP_NET_RAW and CAP_NET_ADMIN, and CAP_BPF to load the "
                                 "XDP program): AF_XDP sockets and XDP programs are privileged"});
    auto setup = std::make_unique<XdpSetup>();
    XdpTarget& t = setup->target;
    t.ifname = o.xdp_iface;
    t.ports = o.src_ports;
    // The families with a server: one, or both (the mix).
    bool served[2] = {false, false};
    for (const socket::Endpoint* e : {&server, server2 ? &*server2 : nullptr}) {
        if (!e)
            continue;
        const bool v6 = e->family() == AF_INET6;
        XdpPath& p = t.paths[v6 ? 1 : 0];
        served[v6] = true;
        p.server_port = e->port();
        if (v6) {
            std::memcpy(p.server.data(), &reinterpret_cast<const sockaddr_in6*>(e->addr())->sin6_addr, 16);
        } else {
            p.server = packet::map_ipv4(
                reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(e->addr())->sin_addr));
        }
    }
    t.mix = served[0] && served[1] ? FamilyMix::ByRequestId : served[1] ? FamilyMix::Ipv6 : FamilyMix::Ipv4;

    auto iface = inspect_interface(o.xdp_iface);
    if (!iface.ok())
        return Err(SetupError{2, iface.error()});
    t.src_mac = iface->mac;
    if (o.queues > iface->queues)
        return Err(SetupError{2, "--queues: " + o.xdp_iface + " has " + std::to_string(iface->queues) +
                                     " queue(s), asked for " + std::to_string(o.queues)});
    setup->queues = o.queues ? o.queues : iface->queues;
    if (o.src_ports.size() < setup->queues)
        return Err(SetupError{2, "--src-ports: at least one port per queue (" + std::to_string(setup->queues) + ")"});
    t.queues = setup->queues;
    if (setup->queues > 1) {
        setup->handoff = std::make_unique<XdpHandoff>(setup->queues);
        t.handoff = setup->handoff.get();
    }
    if (setup->queues < iface->queues)
        setup->warning = "--queues " + std::to_string(setup->queues) + " of " + std::to_string(iface->queues) +
                         ": answers the interface puts on the other queues are not seen (they count as lost); "
                         "steer them with ethtool (-L, -X) or use all queues";

    for (const bool v6 : {false, true}) {
        const char* family = family_name(v6);
        if (o.src_ip(v6).count && !served[v6]) // options.cpp refuses this already
            return Err(SetupError{2, std::string("--src-ip: an ") + family + " range, but no " + family + " SERVER"});
    }
    std::string route; // for the summary, per family: "192.0.2.2 -> 192.0.2.1 via 02:00:5e:10:00:01"
    for (const bool v6 : {false, true}) {
        if (!served[v6])
            continue;
        XdpPath& p = t.paths[v6 ? 1 : 0];
        const char* family = family_name(v6);
        if (o.src_ip(v6).count) {
            p.sources = o.src_ip(v6);
        } else {
            const auto& own = v6 ? iface->ipv6 : iface->ipv4;
            if (!own)
                return Err(SetupError{2, o.xdp_iface + " has no " + family + " address: give --src-ip"});
            p.sources.first = *own;
            p.sources.count = 1;
            p.sources.ipv6 = v6;
        }
        if (o.dst_mac) {
            p.dst_mac = *o.dst_mac;
        } else {
            auto mac = resolve_neighbour(iface->ifindex, o.xdp_iface, p.server, v6, kNeighbourWaitMs);
            if (!mac.ok())
                return Err(SetupError{3, mac.error()});
            p.dst_mac = *mac;
        }
        route += ", " + address_text(p.sources.first, v6) +
                 (p.sources.count > 1 ? " (+" + std::to_string(p.sources.count - 1) + ")" : "") + " -> " +
                 address_text(p.server, v6) + " via " + mac_text(p.dst_mac);
    }

    auto program = GunXdpProgram::attach(iface->ifindex, t.paths[0].server_port, t.paths[1].server_port, t.ports);
    if (!program.ok())
        return Err(SetupError{3, o.xdp_iface + ": " + program.error()});
    setup->program.emplace(std::move(program).value());

    setup->summary = "AF_XDP on " + o.xdp_iface + ": " + std::to_string(setup->queues) + " queue(s), XDP " +
                     setup->program->mode() + ", MAC " + mac_text(t.src_mac) + route + ", ports " +
                     std::to_string(t.ports.first) + "-" + std::to_string(t.ports.last) +
                     (t.mix == FamilyMix::ByRequestId ? ", IPv4 and IPv6 mixed" : "");
    return setup;
}

} // namespace idpath::gun
