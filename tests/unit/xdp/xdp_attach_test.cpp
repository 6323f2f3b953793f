// The XDP program on a real veth between two namespaces: classification proven with the
// program's counters, pass-through proven with real ICMP, TCP and UDP traffic.
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <vector>

#include "drivers/xdp/xdp_loader.hpp"
#include "drivers/socket/unique_fd.hpp"
#include "tests/unit/xdp/netns.hpp"

namespace idpath::xdp {
namespace {

using test::InNetns;
using test::NetnsPair;

constexpr int wait_ms = 1000;
constexpr int absent_wait_ms = 300;

/// Sockets the test opens, closed on scope exit.
using Socket = idpath::socket::UniqueFd;

sockaddr_in address(const char* ip, std::uint16_t port)
{
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &sa.sin_addr);
    return sa;
}

bool readable(int fd, int timeout_ms)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

int bound_socket(int type, std::uint16_t port)
{
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const sockaddr_in sa = address("0.0.0.0", port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0)
        return -1;
    if (type == SOCK_STREAM && ::listen(fd, 4) != 0)
        return -1;
    return fd;
}

/// The test's view of one attach: a namespace pair, the thread in the server namespace, and
/// sockets for the client side created in the client namespace.
class XdpAttachTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root (network namespaces, XDP attach)";
        net_.emplace();
        ASSERT_TRUE(net_->ok()) << "creating namespaces/veth with ip(8) failed";
        in_server_.emplace(net_->server_ns());
        ASSERT_TRUE(in_server_->ok()) << "setns into " << net_->server_ns();
    }

    void TearDown() override
    {
        in_server_.reset();
        net_.reset();
    }

    /// Attaches or skips the test when this kernel cannot load/attach XDP at all.
    std::optional<XdpProgram> attach_or_skip(const XdpOptions& options)
    {
        auto program = XdpProgram::attach(net_->server_if(), options);
        if (!program.ok()) {
            const XdpError& e = program.error();
            if (e.error == EPERM || e.error == ENOSYS || e.error == EOPNOTSUPP)
                skip_reason_ = "XDP/BPF unavailable: " + e.message;
            else
                ADD_FAILURE() << e.message;
            return std::nullopt;
        }
        std::cout << "attached prog id " << program->prog_id() << " in "
                  << to_string(program->mode()) << " mode\n";
        return std::move(program).value();
    }

    int client_socket(int type, int protocol = 0)
    {
        InNetns in_client(net_->client_ns());
        return in_client.ok() ? ::socket(AF_INET, type | SOCK_CLOEXEC, protocol) : -1;
    }

    bool udp_arrives(int server_fd, std::uint16_t port, int timeout_ms)
    {
        Socket client(client_socket(SOCK_DGRAM));
        const sockaddr_in to = address(NetnsPair::server_ip, port);
        const char payload[] = "idpath";
        if (::sendto(client.get(), payload, sizeof(payload), 0,
                reinterpret_cast<const sockaddr*>(&to), sizeof(to))
            != static_cast<ssize_t>(sizeof(payload)))
            return false;
        if (!readable(server_fd, timeout_ms))
            return false;
        std::array<char, 64> buffer{};
        return ::recv(server_fd, buffer.data(), buffer.size(), 0) == sizeof(payload);
    }

    bool ping() { return test::ping(net_->client_ns(), NetnsPair::server_ip); }

    bool tcp_works(std::uint16_t port)
    {
        Socket listener(bound_socket(SOCK_STREAM, port));
        Socket client(client_socket(SOCK_STREAM));
        const timeval timeout{2, 0};
        ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        const sockaddr_in to = address(NetnsPair::server_ip, port);
        if (listener.get() < 0
            || ::connect(client.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0)
            return false;
        if (!readable(listener.get(), wait_ms))
            return false;
        Socket served(::accept(listener.get(), nullptr, nullptr));
        if (::send(client.get(), "hdl", 3, 0) != 3 || !readable(served.get(), wait_ms))
            return false;
        std::array<char, 8> buffer{};
        return ::recv(served.get(), buffer.data(), buffer.size(), 0) == 3;
    }

    std::uint32_t attached_id()
    {
        auto now = query_xdp(net_->server_if());
        EXPECT_TRUE(now.ok()) << now.error().message;
        if (!now.ok())
            return 0;
        EXPECT_FALSE(now->native_id != 0 && now->generic_id != 0);
        return now->native_id != 0 ? now->native_id : now->generic_id;
    }

    std::optional<NetnsPair> net_;
    std::optional<InNetns> in_server_;
    std::string skip_reason_;
};

#define ATTACH_OR_SKIP(var, options)                                                              \
    auto var = attach_or_skip(options);                                                           \
    if (!var) {                                                                                   \
        if (!skip_reason_.empty())                                                                \
            GTEST_SKIP() << skip_reason_;                                                         \
        return;                                                                                   \
    }

void print(const XdpCounters& c)
{
    std::cout << "counters: redirected=" << c.redirected << " no_socket=" << c.no_socket
              << " not_ip=" << c.not_ip << " not_udp=" << c.not_udp
              << " other_port=" << c.other_port << " fragment=" << c.fragment
              << " malformed=" << c.malformed << "\n";
}

TEST_F(XdpAttachTest, ServiceUdpIsSteeredAndTheRestPasses)
{
    ATTACH_OR_SKIP(program, XdpOptions{});
    Socket udp_service(bound_socket(SOCK_DGRAM, 2641));
    Socket udp_other(bound_socket(SOCK_DGRAM, 5353));
    ASSERT_GE(udp_service.get(), 0);
    ASSERT_GE(udp_other.get(), 0);

    EXPECT_TRUE(ping()) << "ICMP (and ARP before it) must pass to the kernel";
    EXPECT_TRUE(tcp_works(2641)) << "TCP 2641 must reach the kernel listener";
    auto before = program->counters();
    ASSERT_TRUE(before.ok()) << before.error().message;
    print(before.value());
    EXPECT_GE(before->not_udp, 2u) << "ICMP and TCP are counted as not UDP";
    EXPECT_GE(before->not_ip, 1u) << "ARP is counted as not IP";
    EXPECT_EQ(before->no_socket, 0u);
    EXPECT_EQ(before->other_port, 0u);

    EXPECT_TRUE(udp_arrives(udp_other.get(), 5353, wait_ms)) << "UDP to another port passes";
    auto mid = program->counters();
    ASSERT_TRUE(mid.ok());
    EXPECT_EQ(mid->other_port, 1u);
    EXPECT_EQ(mid->no_socket, 0u);

    // No AF_XDP socket is bound, so the redirect fails and the default fallback passes it on.
    EXPECT_TRUE(udp_arrives(udp_service.get(), 2641, wait_ms));
    auto after = program->counters();
    ASSERT_TRUE(after.ok());
    print(after.value());
    EXPECT_EQ(after->no_socket, 1u) << "service UDP was selected for AF_XDP";
    EXPECT_EQ(after->other_port, 1u);
    EXPECT_EQ(after->redirected, 0u);
    EXPECT_EQ(after->malformed, 0u);
}

TEST_F(XdpAttachTest, DropFallbackKeepsServiceUdpFromTheKernel)
{
    XdpOptions options;
    options.drop_without_socket = true;
    ATTACH_OR_SKIP(program, options);
    Socket udp_service(bound_socket(SOCK_DGRAM, 2641));
    Socket udp_other(bound_socket(SOCK_DGRAM, 5353));

    EXPECT_TRUE(ping());
    EXPECT_TRUE(tcp_works(2641));
    EXPECT_TRUE(udp_arrives(udp_other.get(), 5353, wait_ms));
    EXPECT_FALSE(udp_arrives(udp_service.get(), 2641, absent_wait_ms))
        << "UDP 2641 must not reach the kernel socket";
    auto c = program->counters();
    ASSERT_TRUE(c.ok());
    print(c.value());
    EXPECT_EQ(c->no_socket, 1u);
    EXPECT_EQ(c->other_port, 1u);
}

TEST_F(XdpAttachTest, AttachTwiceReplacesTheStaleProgram)
{
    XdpOptions generic;
    generic.mode = AttachMode::generic;
    ATTACH_OR_SKIP(first, generic);
    EXPECT_EQ(attached_id(), first->prog_id());

    // As after a crash: the first program is still attached when the next start attaches.
    XdpOptions no_replace;
    no_replace.replace_stale = false;
    auto refused = XdpProgram::attach(net_->server_if(), no_replace);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().error, EEXIST) << refused.error().message;

    // Same mode (swapped atomically), then automatic, which is native on veth: the generic
    // stale program must go first.
    for (AttachMode mode : {AttachMode::generic, AttachMode::automatic}) {
        XdpOptions options;
        options.mode = mode;
        auto second = XdpProgram::attach(net_->server_if(), options);
        ASSERT_TRUE(second.ok()) << second.error().message;
        std::cout << "replaced prog id " << first->prog_id() << " with " << second->prog_id()
                  << " in " << to_string(second->mode()) << " mode\n";
        EXPECT_NE(second->prog_id(), first->prog_id());
        EXPECT_EQ(attached_id(), second->prog_id());
        // The stale program's owner detaching must not remove its replacement.
        EXPECT_TRUE(first->detach().ok());
        EXPECT_EQ(attached_id(), second->prog_id());
        EXPECT_TRUE(ping()) << "the replacement passes ICMP";
        first = std::move(second).value();
    }
    ASSERT_TRUE(first->detach().ok());
    EXPECT_EQ(attached_id(), 0u) << "detach leaves no XDP program";
    EXPECT_TRUE(first->detach().ok()) << "detach is idempotent";
}

TEST_F(XdpAttachTest, ForeignProgramIsReplacedOnlyWhenForced)
{
    // foreign_xdp.bpf.c, built next to this test, attached the way an operator would.
    ASSERT_TRUE(test::run("ip -n " + net_->server_ns() + " link set dev " + net_->server_if()
        + " xdpgeneric obj " IDPATH_FOREIGN_XDP_OBJ " sec xdp"));
    auto now = query_xdp(net_->server_if());
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(now->generic_name, "foreign_xdp");

    auto refused = XdpProgram::attach(net_->server_if(), XdpOptions{});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().error, EEXIST);
    EXPECT_NE(refused.error().message.find("foreign_xdp"), std::string::npos)
        << refused.error().message;

    XdpOptions forced;
    forced.force = true;
    auto program = XdpProgram::attach(net_->server_if(), forced);
    ASSERT_TRUE(program.ok()) << program.error().message;
    EXPECT_EQ(attached_id(), program->prog_id());
    // Now our own program is the stale one: replaced, and the assignment detaches nothing.
    program = XdpProgram::attach(net_->server_if(), XdpOptions{});
    ASSERT_TRUE(program.ok()) << program.error().message;
    EXPECT_EQ(attached_id(), program->prog_id());
    ASSERT_TRUE(program->detach().ok());
    EXPECT_EQ(attached_id(), 0u);
}

/// A frame for bpf_prog_test_run: Ethernet (with optional VLAN tags), then IPv4 or IPv6, then a
/// UDP header to the given port unless the caller stops earlier.
std::vector<std::uint8_t> frame(int vlans, bool ipv6, std::uint8_t l4, std::uint16_t port,
    std::uint16_t frag = 0)
{
    std::vector<std::uint8_t> f(12, 0x02);
    for (int i = 0; i < vlans; ++i) {
        f.insert(f.end(), {static_cast<std::uint8_t>(i == 0 && vlans == 2 ? 0x88 : 0x81),
                              static_cast<std::uint8_t>(i == 0 && vlans == 2 ? 0xa8 : 0x00),
                              0x00, 0x07});
    }
    if (ipv6) {
        f.insert(f.end(), {0x86, 0xdd, 0x60, 0, 0, 0, 0, 16, l4, 64});
        f.insert(f.end(), 32, 0x20);
    } else {
        f.insert(f.end(), {0x08, 0x00, 0x45, 0, 0, 36, 0, 1,
                              static_cast<std::uint8_t>(frag >> 8),
                              static_cast<std::uint8_t>(frag & 0xff), 64, l4, 0, 0});
        f.insert(f.end(), {10, 0, 0, 1, 10, 0, 0, 2});
    }
    f.insert(f.end(), {0x30, 0x39, static_cast<std::uint8_t>(port >> 8),
                          static_cast<std::uint8_t>(port & 0xff), 0, 16, 0, 0});
    f.insert(f.end(), 8, 0);
    return f;
}

std::vector<std::uint8_t> truncated(std::vector<std::uint8_t> f, std::size_t size)
{
    f.resize(size);
    return f;
}

TEST_F(XdpAttachTest, ParserClassifiesCraftedFrames)
{
    XdpOptions options;
    options.ports = {2641, 8000};
    options.mode = AttachMode::generic;
    ATTACH_OR_SKIP(program, options);
    // Only the crafted frames may move the counters: the peer's own traffic (IPv6 MLD reports,
    // which carry a hop-by-hop header, router solicitations) must not arrive meanwhile. A link
    // that is down receives nothing; bpf_prog_test_run does not need it up.
    ASSERT_TRUE(test::run("ip -n " + net_->server_ns() + " link set dev " + net_->server_if() + " down"));

    struct Case {
        const char* what;
        std::vector<std::uint8_t> data;
        std::uint64_t XdpCounters::*counter;
    };
    const std::vector<Case> cases = {
        {"IPv4 UDP 2641", frame(0, false, IPPROTO_UDP, 2641), &XdpCounters::no_socket},
        {"IPv4 UDP 8000 (second port)", frame(0, false, IPPROTO_UDP, 8000),
            &XdpCounters::no_socket},
        {"802.1Q IPv4 UDP 2641", frame(1, false, IPPROTO_UDP, 2641), &XdpCounters::no_socket},
        {"QinQ IPv6 UDP 2641", frame(2, true, IPPROTO_UDP, 2641), &XdpCounters::no_socket},
        {"IPv6 UDP 2641", frame(0, true, IPPROTO_UDP, 2641), &XdpCounters::no_socket},
        {"IPv4 UDP 53", frame(0, false, IPPROTO_UDP, 53), &XdpCounters::other_port},
        {"IPv4 TCP 2641", frame(0, false, IPPROTO_TCP, 2641), &XdpCounters::not_udp},
        {"IPv6 hop-by-hop", frame(0, true, 0, 2641), &XdpCounters::not_udp},
        {"IPv4 first fragment", frame(0, false, IPPROTO_UDP, 2641, 0x2000),
            &XdpCounters::fragment},
        {"IPv4 later fragment", frame(0, false, IPPROTO_UDP, 2641, 0x0010),
            &XdpCounters::fragment},
        {"truncated UDP", truncated(frame(0, false, IPPROTO_UDP, 2641), 14 + 20 + 4),
            &XdpCounters::malformed},
        {"ARP", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 2, 2, 2, 2, 2, 0x08, 0x06, 0, 1, 8, 0,
                    6, 4, 0, 1}, &XdpCounters::not_ip},
    };
    for (const Case& c : cases) {
        auto before = program->counters();
        ASSERT_TRUE(before.ok());
        auto verdict = program->test_run(c.data);
        ASSERT_TRUE(verdict.ok()) << c.what << ": " << verdict.error().message;
        EXPECT_EQ(verdict.value(), XDP_PASS) << c.what;
        auto after = program->counters();
        ASSERT_TRUE(after.ok());
        EXPECT_EQ(after.value().*c.counter, before.value().*c.counter + 1) << c.what;
    }
}

/// A minimal receive-only AF_XDP socket on queue 0 (copy mode), inserted into the program's
/// xsks_map the way DPDK's net_af_xdp does with a custom program.
class XskReceiver {
public:
    explicit XskReceiver(const std::string& ifname) { (void)open(ifname); }

private:
    bool open(const std::string& ifname)
    {
        fd_ = ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            return fail("socket(AF_XDP)");
        area_ = ::mmap(nullptr, area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
            -1, 0);
        if (area_ == MAP_FAILED)
            return fail("mmap(umem)");
        xdp_umem_reg reg{};
        reg.addr = reinterpret_cast<std::uintptr_t>(area_);
        reg.len = area_size;
        reg.chunk_size = frame_size;
        if (::setsockopt(fd_, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) != 0)
            return fail("setsockopt(XDP_UMEM_REG)");
        const int size = ring_size;
        for (int ring : {XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING}) {
            if (::setsockopt(fd_, SOL_XDP, ring, &size, sizeof(size)) != 0)
                return fail("setsockopt(ring size)");
        }
        xdp_mmap_offsets off{};
        socklen_t len = sizeof(off);
        if (::getsockopt(fd_, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) != 0)
            return fail("getsockopt(XDP_MMAP_OFFSETS)");
        fill_len_ = off.fr.desc + ring_size * sizeof(std::uint64_t);
        fill_ = map_ring(fill_len_, XDP_UMEM_PGOFF_FILL_RING);
        rx_len_ = off.rx.desc + ring_size * sizeof(xdp_desc);
        rx_ = map_ring(rx_len_, XDP_PGOFF_RX_RING);
        if (!fill_ || !rx_)
            return fail("mmap(rings)");
        auto* addrs = reinterpret_cast<std::uint64_t*>(fill_ + off.fr.desc);
        for (std::uint32_t i = 0; i < ring_size; ++i)
            addrs[i] = std::uint64_t{i} * frame_size;
        __atomic_store_n(reinterpret_cast<std::uint32_t*>(fill_ + off.fr.producer), ring_size,
            __ATOMIC_RELEASE);
        rx_producer_ = reinterpret_cast<std::uint32_t*>(rx_ + off.rx.producer);
        rx_consumer_ = reinterpret_cast<std::uint32_t*>(rx_ + off.rx.consumer);
        rx_descs_ = reinterpret_cast<const xdp_desc*>(rx_ + off.rx.desc);
        sockaddr_xdp sxdp{};
        sxdp.sxdp_family = AF_XDP;
        sxdp.sxdp_ifindex = if_nametoindex(ifname.c_str());
        sxdp.sxdp_queue_id = 0;
        sxdp.sxdp_flags = XDP_COPY;
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sxdp), sizeof(sxdp)) != 0)
            return fail("bind(AF_XDP)");
        return true;
    }

public:
    ~XskReceiver()
    {
        if (rx_)
            ::munmap(rx_, rx_len_);
        if (fill_)
            ::munmap(fill_, fill_len_);
        if (fd_ >= 0)
            ::close(fd_);
        if (area_ != MAP_FAILED && area_ != nullptr)
            ::munmap(area_, area_size);
    }

    XskReceiver(const XskReceiver&) = delete;
    XskReceiver& operator=(const XskReceiver&) = delete;

    int fd() const { return fd_; }
    const std::string& error() const { return error_; }

    /// The UDP destination port of the next received IPv4 frame, 0 if none arrives in time.
    std::uint16_t next_udp_port()
    {
        if (!readable(fd_, wait_ms))
            return 0;
        const std::uint32_t consumer = *rx_consumer_;
        if (__atomic_load_n(rx_producer_, __ATOMIC_ACQUIRE) == consumer)
            return 0;
        const xdp_desc desc = rx_descs_[consumer & (ring_size - 1)];
        const auto* frame = static_cast<const std::uint8_t*>(area_) + desc.addr;
        std::uint16_t port = 0;
        if (desc.len >= 14 + 20 + 8)
            port = static_cast<std::uint16_t>(frame[14 + 20 + 2] << 8 | frame[14 + 20 + 3]);
        __atomic_store_n(rx_consumer_, consumer + 1, __ATOMIC_RELEASE);
        return port;
    }

private:
    static constexpr std::uint32_t ring_size = 64;
    static constexpr std::uint32_t frame_size = 4096;
    static constexpr std::size_t area_size = std::size_t{ring_size} * frame_size;

    bool fail(const char* call)
    {
        error_ = std::string(call) + ": " + std::strerror(errno);
        return false;
    }

    std::uint8_t* map_ring(std::size_t length, off_t offset)
    {
        void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
            offset);
        return p == MAP_FAILED ? nullptr : static_cast<std::uint8_t*>(p);
    }

    int fd_ = -1;
    void* area_ = nullptr;
    std::uint8_t* fill_ = nullptr;
    std::size_t fill_len_ = 0;
    std::uint8_t* rx_ = nullptr;
    std::size_t rx_len_ = 0;
    std::uint32_t* rx_producer_ = nullptr;
    std::uint32_t* rx_consumer_ = nullptr;
    const xdp_desc* rx_descs_ = nullptr;
    std::string error_;
};

TEST_F(XdpAttachTest, ServiceUdpReachesTheAfXdpSocket)
{
    ATTACH_OR_SKIP(program, XdpOptions{});
    XskReceiver xsk(net_->server_if());
    if (!xsk.error().empty())
        GTEST_SKIP() << "AF_XDP unavailable: " << xsk.error();
    auto inserted = program->insert_socket(0, xsk.fd());
    ASSERT_TRUE(inserted.ok()) << inserted.error().message;
    Socket udp_service(bound_socket(SOCK_DGRAM, 2641));
    Socket udp_other(bound_socket(SOCK_DGRAM, 5353));

    EXPECT_FALSE(udp_arrives(udp_service.get(), 2641, absent_wait_ms))
        << "UDP 2641 must go to the AF_XDP socket, not the kernel";
    EXPECT_EQ(xsk.next_udp_port(), 2641);
    EXPECT_TRUE(udp_arrives(udp_other.get(), 5353, wait_ms));
    EXPECT_TRUE(ping());
    EXPECT_TRUE(tcp_works(2641));
    auto c = program->counters();
    ASSERT_TRUE(c.ok());
    print(c.value());
    EXPECT_EQ(c->redirected, 1u);
    EXPECT_EQ(c->no_socket, 0u);
    EXPECT_EQ(c->other_port, 1u);
}

} // namespace
} // namespace idpath::xdp
