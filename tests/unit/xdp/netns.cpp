#include "tests/unit/xdp/netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace idpath::xdp::test {

bool run(const std::string& command)
{
    return std::system(command.c_str()) == 0;
}

namespace {

/// A socket created in namespace ns (it stays there whatever thread uses it); -1 on failure.
int socket_in(const std::string& ns, int family, int type, int protocol)
{
    InNetns in(ns);
    return in.ok() ? ::socket(family, type | SOCK_CLOEXEC, protocol) : -1;
}

std::uint16_t icmp_checksum(const std::uint8_t* data, std::size_t size)
{
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < size; i += 2)
        sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons(static_cast<std::uint16_t>(~sum));
}

} // namespace

bool ping(const std::string& ns, const std::string& ipv4)
{
    sockaddr_in to{};
    to.sin_family = AF_INET;
    if (::inet_pton(AF_INET, ipv4.c_str(), &to.sin_addr) != 1)
        return false;
    const int fd = socket_in(ns, AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0)
        return false;
    // Like ping(8) with -c3: one reply to any of three requests will do, since a single echo
    // can be lost now and then on a freshly created veth (seen about once in 15 runs).
    bool replied = false;
    for (std::uint8_t sequence = 1; sequence <= 3 && !replied; ++sequence) {
        std::array<std::uint8_t, 16> request{};
        request[0] = ICMP_ECHO;
        request[4] = 0x26; // identifier, to tell our replies from others
        request[5] = 0x41;
        request[7] = sequence;
        const std::uint16_t sum = icmp_checksum(request.data(), request.size());
        std::memcpy(&request[2], &sum, sizeof(sum));
        if (::sendto(fd, request.data(), request.size(), 0,
                reinterpret_cast<const sockaddr*>(&to), sizeof(to))
            != static_cast<ssize_t>(request.size()))
            break;
        std::array<std::uint8_t, 128> reply{};
        pollfd p{fd, POLLIN, 0};
        while (!replied && ::poll(&p, 1, 1000) == 1) {
            const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
            const std::size_t ihl = (reply[0] & 0x0fu) * 4u;
            replied = n >= 28 && static_cast<std::size_t>(n) >= ihl + 8
                && reply[ihl] == ICMP_ECHOREPLY && reply[ihl + 4] == 0x26
                && reply[ihl + 5] == 0x41;
        }
    }
    ::close(fd);
    return replied;
}

bool send_udp(const std::string& ns, const std::string& ip, std::uint16_t port)
{
    sockaddr_storage to{};
    socklen_t to_len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&to);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&to);
    if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        to_len = sizeof(*v4);
    } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        to_len = sizeof(*v6);
    } else {
        return false;
    }
    const int fd = socket_in(ns, to.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return false;
    const char payload[] = "idpath";
    const bool sent = ::sendto(fd, payload, sizeof(payload), 0,
                          reinterpret_cast<const sockaddr*>(&to), to_len)
        == static_cast<ssize_t>(sizeof(payload));
    ::close(fd);
    return sent;
}

NetnsPair::NetnsPair(bool ipv6)
{
    const std::string id = std::to_string(::getpid());
    client_ns_ = "idp7c" + id;
    server_ns_ = "idp7s" + id;
    client_if_ = "idp7c" + id;
    server_if_ = "idp7s" + id;
    destroy();
    const std::string c = "ip -n " + client_ns_ + " ";
    const std::string s = "ip -n " + server_ns_ + " ";
    ok_ = run("ip netns add " + client_ns_) && run("ip netns add " + server_ns_)
        && run("ip link add " + client_if_ + " netns " + client_ns_ + " type veth peer name "
            + server_if_ + " netns " + server_ns_)
        && run(c + "addr add " + client_ip + "/24 dev " + client_if_)
        && run(s + "addr add " + server_ip + "/24 dev " + server_if_)
        && run(c + "link set lo up") && run(s + "link set lo up")
        && run(c + "link set " + client_if_ + " up") && run(s + "link set " + server_if_ + " up");
    if (ok_ && ipv6) {
        ok_ = run(c + "addr add " + client_ip6 + "/64 dev " + client_if_ + " nodad")
            && run(s + "addr add " + server_ip6 + "/64 dev " + server_if_ + " nodad");
    }
}

NetnsPair::~NetnsPair()
{
    destroy();
}

void NetnsPair::destroy()
{
    // Deleting a namespace deletes the veth end inside it, and with it the peer.
    run("ip netns del " + client_ns_ + " 2>/dev/null");
    run("ip netns del " + server_ns_ + " 2>/dev/null");
}

InNetns::InNetns(const std::string& name)
{
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = original_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    if (target >= 0)
        ::close(target);
}

InNetns::~InNetns()
{
    if (original_ < 0)
        return;
    if (::setns(original_, CLONE_NEWNET) != 0) {
        std::cerr << "setns back to the original namespace failed\n";
        std::abort();
    }
    ::close(original_);
}

} // namespace idpath::xdp::test
