// DPDK 22.11's net_af_xdp with idpath's XDP program on a veth between two namespaces: DPDK loads
// and attaches the object file (xdp_prog=), idpath adopts it and fills its maps; service UDP
// (IPv4 and IPv6) then reaches rx_burst while ICMP, TCP and other UDP reach the kernel, and
// closing the port leaves nothing attached. EAL lives once per process: its own executable.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "drivers/dpdk/dpdk_port.hpp"
#include "drivers/dpdk/eal.hpp"
#include "drivers/xdp/xdp_adopt.hpp"
#include "drivers/xdp/xdp_loader.hpp"
#include "drivers/socket/unique_fd.hpp"
#include "tests/unit/xdp/netns.hpp"

namespace idpath::dpdk {
namespace {

using xdp::test::InNetns;
using xdp::test::NetnsPair;
using Clock = std::chrono::steady_clock;

constexpr std::uint16_t service_port = 2641;
constexpr std::uint16_t other_port = 5353;

/// Sockets the test opens, closed on scope exit.
using Socket = idpath::socket::UniqueFd;

/// A kernel socket bound to any IPv4 address in the calling thread's namespace.
int kernel_socket(int type, std::uint16_t port)
{
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0)
        return -1;
    if (type == SOCK_STREAM && ::listen(fd, 4) != 0)
        return -1;
    return fd;
}

bool readable(int fd, int timeout_ms)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

/// What rx_burst delivered, by kind.
struct Received {
    int service_v4 = 0;
    int service_v6 = 0;
    int other = 0;
};

/// UDP destination port of an untagged IPv4 or IPv6 frame, 0 for anything else.
std::uint16_t udp_port(const worker::PacketRef& p, bool& ipv6)
{
    const std::uint8_t* f = p.data;
    if (p.length >= 14 + 20 + 8 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == IPPROTO_UDP) {
        const std::size_t l4 = 14 + (f[14] & 0x0fu) * 4u;
        ipv6 = false;
        return l4 + 4 <= p.length ? static_cast<std::uint16_t>(f[l4 + 2] << 8 | f[l4 + 3]) : 0;
    }
    if (p.length >= 14 + 40 + 8 && f[12] == 0x86 && f[13] == 0xdd && f[14 + 6] == IPPROTO_UDP) {
        ipv6 = true;
        return static_cast<std::uint16_t>(f[14 + 40 + 2] << 8 | f[14 + 40 + 3]);
    }
    return 0;
}

/// Polls rx_burst until `done` says so or the deadline passes; every mbuf is freed.
template <class Done>
Received poll_rx(DpdkPort& port, std::chrono::milliseconds deadline, Done done)
{
    Received r;
    std::array<worker::PacketRef, worker::kBurstSize> burst{};
    const auto until = Clock::now() + deadline;
    while (!done(r) && Clock::now() < until) {
        const std::size_t n = port.rx_burst(burst);
        for (std::size_t i = 0; i < n; ++i) {
            bool ipv6 = false;
            const std::uint16_t dport = udp_port(burst[i], ipv6);
            if (dport == service_port)
                ++(ipv6 ? r.service_v6 : r.service_v4);
            else
                ++r.other;
        }
        port.free({burst.data(), n});
        if (n == 0)
            ::usleep(1000);
    }
    return r;
}

bool kernel_has_af_xdp(std::string& why)
{
    const int fd = ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        why = std::strerror(errno);
        return false;
    }
    ::close(fd);
    return true;
}

TEST(AfXdp, DpdkAttachesIdpathProgramAndReceivesServiceUdp)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root (network namespaces, AF_XDP, XDP attach)";
    std::string why;
    if (!kernel_has_af_xdp(why))
        GTEST_SKIP() << "kernel lacks AF_XDP: socket(AF_XDP): " << why;

    NetnsPair net(/*ipv6=*/true);
    ASSERT_TRUE(net.ok()) << "creating namespaces/veth with ip(8) failed";
    // DPDK resolves iface= and opens its sockets in the namespace of the thread calling EAL
    // and the port setup, so the whole test runs in the server namespace.
    InNetns in_server(net.server_ns());
    ASSERT_TRUE(in_server.ok());
    const std::string ifname = net.server_if();

    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("idpath-af-xdp-" + std::to_string(::getpid()));
    const std::string object = (dir / "idpath_xdp.bpf.o").string();
    struct RemoveDir {
        std::filesystem::path path;
        ~RemoveDir() { std::filesystem::remove_all(path); }
    } remove_dir{dir};
    auto written = xdp::write_program_object(object);
    ASSERT_TRUE(written.ok()) << written.error().message;
    auto cleared = xdp::clear_stale(ifname, false);
    ASSERT_TRUE(cleared.ok()) << cleared.error().message;

    EalOptions o;
    o.file_prefix = "idpath-af-xdp-" + std::to_string(::getpid());
    o.lcores = "0";
    o.no_huge = true;
    o.memory_mb = 256;
    o.no_pci = true;
    o.log_level = 5;
    o.vdevs = {"net_af_xdp0,iface=" + ifname + ",xdp_prog=" + object};
    auto eal = Eal::init(o);
    ASSERT_TRUE(eal.ok()) << eal.error();
    ASSERT_EQ((*eal)->port_count(), 1u);

    auto pool = Mempool::create("af_xdp_pool", Mempool::size_for(1, 1024, 1024, 1));
    ASSERT_TRUE(pool.ok()) << pool.error();
    PortConfig pc;
    pc.port_id = 0;
    auto ports = configure_port(pc, **pool);
    ASSERT_TRUE(ports.ok()) << ports.error();

    DpdkPort& port = (*ports)->queue(0);
    Socket udp_service(kernel_socket(SOCK_DGRAM, service_port));
    Socket udp_other(kernel_socket(SOCK_DGRAM, other_port));
    Socket tcp_listener(kernel_socket(SOCK_STREAM, service_port));
    ASSERT_GE(udp_service.get(), 0);
    ASSERT_GE(udp_other.get(), 0);
    ASSERT_GE(tcp_listener.get(), 0);

    // DPDK loaded the program from the file, so its port map is empty: nothing is steered yet.
    ASSERT_TRUE(xdp::test::send_udp(net.client_ns(), NetnsPair::server_ip, service_port));
    EXPECT_TRUE(readable(udp_service.get(), 2000)) << "unadopted, UDP 2641 goes to the kernel";
    std::array<char, 64> drain{};
    (void)::recv(udp_service.get(), drain.data(), drain.size(), MSG_DONTWAIT);
    const Received unadopted = poll_rx(port, std::chrono::milliseconds(200),
        [](const Received&) { return false; });
    EXPECT_EQ(unadopted.service_v4 + unadopted.service_v6 + unadopted.other, 0);

    auto adopted = xdp::adopt_attached(ifname, xdp::XdpOptions{});
    ASSERT_TRUE(adopted.ok()) << adopted.error().message;
    std::cout << "adopted prog id " << adopted->prog_id() << " in "
              << xdp::to_string(adopted->mode()) << " mode\n";

    // The IPv6 datagram waits in the client's neighbour queue for NDP, which the program
    // passes to the kernel: its arrival alone shows the kernel still answers.
    ASSERT_TRUE(xdp::test::send_udp(net.client_ns(), NetnsPair::server_ip, service_port));
    ASSERT_TRUE(xdp::test::send_udp(net.client_ns(), NetnsPair::server_ip6, service_port));
    const Received service = poll_rx(port, std::chrono::seconds(5),
        [](const Received& r) { return r.service_v4 >= 1 && r.service_v6 >= 1; });
    EXPECT_EQ(service.service_v4, 1) << "IPv4 UDP 2641 must reach rx_burst";
    EXPECT_EQ(service.service_v6, 1) << "IPv6 UDP 2641 must reach rx_burst";
    EXPECT_EQ(service.other, 0);
    EXPECT_FALSE(readable(udp_service.get(), 0)) << "adopted, UDP 2641 skips the kernel";

    ASSERT_TRUE(xdp::test::send_udp(net.client_ns(), NetnsPair::server_ip, other_port));
    EXPECT_TRUE(readable(udp_other.get(), 1000)) << "UDP 5353 must reach the kernel socket";
    EXPECT_TRUE(xdp::test::ping(net.client_ns(), NetnsPair::server_ip))
        << "ICMP must reach the kernel";
    {
        InNetns in_client(net.client_ns());
        ASSERT_TRUE(in_client.ok());
        Socket client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(service_port);
        ::inet_pton(AF_INET, NetnsPair::server_ip, &to.sin_addr);
        EXPECT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0)
            << "TCP 2641 must reach the kernel listener: " << std::strerror(errno);
    }
    const Received rest = poll_rx(port, std::chrono::milliseconds(300),
        [](const Received&) { return false; });
    EXPECT_EQ(rest.service_v4 + rest.service_v6 + rest.other, 0)
        << "only service UDP may reach DPDK";

    auto counters = adopted->counters();
    ASSERT_TRUE(counters.ok()) << counters.error().message;
    std::cout << "counters: redirected=" << counters->redirected
              << " no_socket=" << counters->no_socket << " not_ip=" << counters->not_ip
              << " not_udp=" << counters->not_udp << " other_port=" << counters->other_port
              << "\n";
    EXPECT_EQ(counters->redirected, 2u);
    EXPECT_EQ(counters->no_socket, 0u);
    EXPECT_EQ(counters->other_port, 2u) << "UDP 5353, and UDP 2641 sent before adoption";
    EXPECT_GE(counters->not_udp, 2u) << "ICMP and TCP";

    // DPDK detaches at port close; the adopted fds must not keep anything attached.
    ports->reset();
    auto after_close = xdp::query_xdp(ifname);
    ASSERT_TRUE(after_close.ok()) << after_close.error().message;
    EXPECT_TRUE(after_close->empty()) << "port close must detach the program";
    pool->reset();
    eal->reset();
    auto after_eal = xdp::query_xdp(ifname);
    ASSERT_TRUE(after_eal.ok()) << after_eal.error().message;
    EXPECT_TRUE(after_eal->empty());
}

} // namespace
} // namespace idpath::dpdk
