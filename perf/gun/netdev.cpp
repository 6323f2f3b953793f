#include "perf/gun/netdev.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "drivers/socket/unique_fd.hpp"
#include "perf/gun/io_result.hpp"

namespace idpath::gun {
namespace {

constexpr std::size_t kV4Offset = 12;

bool is_link_local6(const in6_addr& a)
{
    return a.s6_addr[0] == 0xfe && (a.s6_addr[1] & 0xc0) == 0x80;
}

/// RX queues as ethtool -l reports them; the sysfs queue directories when the driver has no
/// channel API (veth before 5.x, some virtual devices).
std::uint32_t queue_count(int fd, const std::string& name)
{
    ethtool_channels ch{};
    ch.cmd = ETHTOOL_GCHANNELS;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&ch);
    if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && (ch.combined_count || ch.rx_count))
        return std::max(ch.combined_count, ch.rx_count);
    std::uint32_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/sys/class/net/" + name + "/queues", ec))
        n += e.path().filename().string().starts_with("rx-");
    return n ? n : 1;
}

enum class Lookup { Found, Missing, Failed };

/// One dump of the neighbour table, looking for `address` on `ifindex`.
Lookup lookup(int ifindex, const packet::IpAddress& address, bool ipv6, packet::MacAddress& mac, std::string& error)
{
    socket::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) {
        error = "netlink socket: " + errno_text(errno);
        return Lookup::Failed;
    }
    struct {
        nlmsghdr nh;
        ndmsg nd;
    } req{};
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = RTM_GETNEIGH;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nh.nlmsg_seq = 1;
    req.nd.ndm_family = ipv6 ? AF_INET6 : AF_INET;
    req.nd.ndm_ifindex = ifindex;
    if (::send(fd.get(), &req, sizeof req, 0) < 0) {
        error = "netlink RTM_GETNEIGH: " + errno_text(errno);
        return Lookup::Failed;
    }
    const std::uint8_t* want = ipv6 ? address.data() : address.data() + kV4Offset;
    const std::size_t want_len = ipv6 ? 16 : 4;
    // Walked by offset with the headers copied out, not through the NLMSG_*/RTA_* cast macros:
    // those cast char pointers to aligned structs, which -Wcast-align (clang) rejects.
    static thread_local std::array<std::uint8_t, 32768> buf;
    constexpr std::size_t kHeader = NLMSG_ALIGN(sizeof(nlmsghdr));
    constexpr std::size_t kAttrs = kHeader + NLMSG_ALIGN(sizeof(ndmsg));
    constexpr std::size_t kAttrHeader = RTA_ALIGN(sizeof(rtattr));
    constexpr std::uint16_t usable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;
    Lookup result = Lookup::Missing;
    for (;;) {
        const ssize_t got = ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (got < 0) {
            error = "netlink recv: " + errno_text(errno);
            return Lookup::Failed;
        }
        const std::size_t n = static_cast<std::size_t>(got);
        for (std::size_t off = 0; off + sizeof(nlmsghdr) <= n;) {
            nlmsghdr nh;
            std::memcpy(&nh, buf.data() + off, sizeof nh);
            if (nh.nlmsg_len < sizeof nh || off + nh.nlmsg_len > n)
                break;
            if (nh.nlmsg_type == NLMSG_DONE || nh.nlmsg_type == NLMSG_ERROR)
                return result;
            const std::size_t end = off + nh.nlmsg_len;
            if (nh.nlmsg_type == RTM_NEWNEIGH && nh.nlmsg_len >= kAttrs) {
                ndmsg nd;
                std::memcpy(&nd, buf.data() + off + kHeader, sizeof nd);
                const std::uint8_t* dst = nullptr;
                const std::uint8_t* ll = nullptr;
                for (std::size_t a = off + kAttrs; a + sizeof(rtattr) <= end;) {
                    rtattr ra;
                    std::memcpy(&ra, buf.data() + a, sizeof ra);
                    if (ra.rta_len < sizeof ra || a + ra.rta_len > end)
                        break;
                    const std::size_t length = ra.rta_len - kAttrHeader;
                    if (ra.rta_type == NDA_DST && length == want_len)
                        dst = buf.data() + a + kAttrHeader;
                    if (ra.rta_type == NDA_LLADDR && length == 6)
                        ll = buf.data() + a + kAttrHeader;
                    a += RTA_ALIGN(ra.rta_len);
                }
                if (nd.ndm_ifindex == ifindex && (nd.ndm_state & usable) && dst && ll &&
                    std::memcmp(dst, want, want_len) == 0) {
                    std::memcpy(mac.data(), ll, 6);
                    result = Lookup::Found;
                }
            }
            off += NLMSG_ALIGN(nh.nlmsg_len);
        }
    }
}

/// Makes the kernel resolve `address`: a datagram to its discard port, out of `ifname`.
void provoke_resolution(const std::string& ifname, const packet::IpAddress& address, bool ipv6)
{
    socket::UniqueFd fd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return;
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size()));
    sockaddr_storage ss{};
    socklen_t len;
    if (ipv6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(9);
        std::memcpy(&s6->sin6_addr, address.data(), 16);
        len = sizeof *s6;
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(9);
        std::memcpy(&s4->sin_addr, address.data() + kV4Offset, 4);
        len = sizeof *s4;
    }
    const char probe = 0;
    (void)::sendto(fd.get(), &probe, 1, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len);
}

} // namespace

Result<InterfaceInfo, std::string> inspect_interface(const std::string& name)
{
    InterfaceInfo info;
    info.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (info.ifindex == 0)
        return Err("--xdp " + name + ": no such interface in this network namespace");
    socket::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Err("socket: " + errno_text(errno));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd.get(), SIOCGIFHWADDR, &ifr) != 0)
        return Err("--xdp " + name + ": SIOCGIFHWADDR: " + errno_text(errno));
    std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
    info.queues = queue_count(fd.get(), name);

    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0)
        return Err("getifaddrs: " + errno_text(errno));
    bool global6 = false;
    for (const ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || name != a->ifa_name)
            continue;
        if (a->ifa_addr->sa_family == AF_INET && !info.ipv4) {
            const auto* s4 = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
            info.ipv4 = packet::map_ipv4(reinterpret_cast<const std::uint8_t*>(&s4->sin_addr));
        } else if (a->ifa_addr->sa_family == AF_INET6 && !global6) {
            const auto* s6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
            packet::IpAddress v6;
            std::memcpy(v6.data(), &s6->sin6_addr, 16);
            if (!is_link_local6(s6->sin6_addr) || !info.ipv6) {
                info.ipv6 = v6;
                global6 = !is_link_local6(s6->sin6_addr);
            }
        }
    }
    freeifaddrs(list);
    return info;
}

Result<packet::MacAddress, std::string> resolve_neighbour(int ifindex, const std::string& ifname,
                                                          const packet::IpAddress& address, bool ipv6,
                                                          std::uint32_t wait_ms)
{
    packet::MacAddress mac{};
    std::string error;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (int attempt = 0;; ++attempt) {
        const Lookup l = lookup(ifindex, address, ipv6, mac, error);
        if (l == Lookup::Found)
            return mac;
        if (l == Lookup::Failed)
            return Err(error);
        if (std::chrono::steady_clock::now() >= deadline)
            return Err("no neighbour entry for the server on " + ifname +
                       " (it did not answer ARP/NDP; give --dst-mac, or check the address and route)");
        if (attempt % 10 == 0) // every half second: the first ARP/NDP may be lost
            provoke_resolution(ifname, address, ipv6);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

} // namespace idpath::gun
