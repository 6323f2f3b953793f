// DpdkPort under a real EAL (no hugepages, no PCI): Worker<DpdkPort> answering Handle requests
// over a loopback ring port, a null port, and a net_tap port whose checksum offloads are checked
// from the kernel's side of the tap. EAL lives once per process, so this is its own executable
// with one EAL for all its tests.

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/response.hpp"
#include "drivers/dpdk/dpdk_port.hpp"
#include "drivers/dpdk/eal.hpp"
#include "drivers/dpdk/ring_port.hpp"
#include "tests/unit/worker/worker_rig.hpp"

namespace idpath::dpdk {
namespace {

namespace wt = worker::test;

std::unique_ptr<Eal> g_eal;

/// The kernel name of the test's tap: unique per process, as tests of several builds may run
/// at once on one host (IFNAMSIZ allows 15 characters).
const std::string g_tap_iface = "idpck" + std::to_string(::getpid() % 100000);

class EalEnvironment : public ::testing::Environment {
public:
    void SetUp() override
    {
        EalOptions o;
        o.file_prefix = "idpath-port-test";
        o.no_huge = true;
        o.memory_mb = 256;
        o.no_pci = true;
        o.log_level = 3;
        // net_tap1 is closed by a failing configure_port; the taps need CAP_NET_ADMIN and
        // /dev/net/tun, and their tests skip when EAL could not create them.
        o.vdevs = {"net_null0,no-rx=1", "net_null1,no-rx=1", "net_tap0,iface=" + g_tap_iface,
                   "net_tap1,iface=" + g_tap_iface + "b"};
        auto eal = Eal::init(o);
        ASSERT_TRUE(eal.ok()) << eal.error();
        g_eal = std::move(*eal);
    }
    void TearDown() override { g_eal.reset(); }
};

const auto* const g_env = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

bool has_port(const std::string& name)
{
    for (std::uint16_t p = 0; p < 32; ++p)
        if (g_eal->port_name(p) == name)
            return true;
    return false;
}

std::uint16_t port_named(const std::string& name)
{
    for (std::uint16_t p = 0; p < 32; ++p)
        if (g_eal->port_name(p) == name)
            return p;
    ADD_FAILURE() << "no port " << name;
    return 0;
}

/// Copies `frames` into fresh mbufs of `port` and transmits them.
void send(DpdkPort& port, const std::vector<std::vector<std::uint8_t>>& frames)
{
    std::vector<worker::PacketRef> refs(frames.size());
    ASSERT_EQ(port.alloc(refs), frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        ASSERT_LE(frames[i].size(), refs[i].capacity);
        std::memcpy(refs[i].data, frames[i].data(), frames[i].size());
        refs[i].length = static_cast<std::uint16_t>(frames[i].size());
    }
    ASSERT_EQ(port.tx_burst(refs), frames.size());
}

/// Receives everything queued on `port`, copied out; the mbufs are freed.
std::vector<std::vector<std::uint8_t>> receive(DpdkPort& port)
{
    std::vector<std::vector<std::uint8_t>> out;
    std::array<worker::PacketRef, worker::kBurstSize> refs{};
    while (const std::size_t n = port.rx_burst(refs)) {
        for (std::size_t i = 0; i < n; ++i)
            out.emplace_back(refs[i].data, refs[i].data + refs[i].length);
        port.free({refs.data(), n});
    }
    return out;
}

void expect_abc_answer(const std::vector<std::uint8_t>& payload)
{
    const auto env = wire::decode_envelope(payload);
    ASSERT_TRUE(env.ok());
    const auto m = wire::decode_message(ByteSpan(payload).subspan(wire::kEnvelopeSize));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.response_code, 1u);
    const auto body = wire::decode_response_body(m->header, m->body);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->resolution.handle, "88.100.1/abc");
}

TEST(MempoolTest, SizedFromRings)
{
    // Rings, then per lcore 32 * 16 mbufs in flight (a burst of multi-datagram answers) and a
    // cache of 256 that may hold 384: 2048 + 896 = 2944 -> 4095.
    EXPECT_EQ(Mempool::size_for(1, 1024, 1024, 1), 4095u);
    EXPECT_EQ(Mempool::size_for(1, 64, 64, 1), 2047u);       // 128 + 896 = 1024
    EXPECT_EQ(Mempool::size_for(4, 1024, 1024, 4), 16383u);  // 8192 + 3584
    EXPECT_EQ(Mempool::size_for(1, 1024, 1024, 8), 16383u);  // 2048 + 7168 = 9216
    // Every worker can be mid-burst with its worst answers and still leave the rings full.
    const unsigned lcores = 3;
    EXPECT_GE(Mempool::size_for(2, 512, 512, lcores),
              2u * 1024u + lcores * (worker::kBurstSize * worker::kMaxDatagramsPerAnswer + 384u));
}

TEST(DpdkPortTest, ConfigureRejectsBadPorts)
{
    auto pool = Mempool::create("bad_pool", 511);
    ASSERT_TRUE(pool.ok()) << pool.error();
    const auto missing = configure_port({.port_id = 200}, **pool);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().find("no such port"), std::string::npos) << missing.error();
    const auto lo = make_loopback_ring_port("net_lo_bad");
    ASSERT_TRUE(lo.ok()) << lo.error();
    const auto too_many = configure_port({.port_id = *lo, .queues = 4}, **pool);
    ASSERT_FALSE(too_many.ok());
    EXPECT_NE(too_many.error().find("net_lo_bad"), std::string::npos) << too_many.error();
}

TEST(DpdkPortTest, WorkerAnswersOverLoopbackRing)
{
    const auto lo = make_loopback_ring_port("net_lo0");
    ASSERT_TRUE(lo.ok()) << lo.error();
    auto pool = Mempool::create("lo_pool", Mempool::size_for(1, 512, 512, 1));
    ASSERT_TRUE(pool.ok()) << pool.error();
    {
        auto set = configure_port({.port_id = *lo, .rx_ring = 512, .tx_ring = 512}, **pool);
        ASSERT_TRUE(set.ok()) << set.error();
        EXPECT_EQ((*set)->name(), "net_ring_net_lo0"); // the ring PMD prefixes its ports
        EXPECT_FALSE((*set)->rss());
        DpdkPort& port = (*set)->queue(0);

        const resolve::Policy policy;
        const auto table = idpath::test::small_table();
        worker::Worker<DpdkPort> w(port, packet::test::our_config(), policy);
        send(port, {wt::udp4_frame(wt::request_payload("88.100.1/abc")),
                    wt::udp6_frame(wt::request_payload("88.100.1/abc")),
                    wt::udp4_frame(wt::request_payload("88.100.1/big"))});
        EXPECT_EQ(w.poll_once(*table, wt::kNow, 0), 3u);
        EXPECT_EQ(w.stats().dropped.get(), 0u);

        const auto tx = receive(port);
        ASSERT_GE(tx.size(), 4u);
        EXPECT_EQ(w.stats().tx.get(), tx.size());
        expect_abc_answer(wt::client_side_payload(tx[0], false));
        expect_abc_answer(wt::client_side_payload(tx[1], true));
        // The rest: the multi-datagram answer, in sequence.
        for (std::size_t k = 2; k < tx.size(); ++k) {
            const auto payload = wt::client_side_payload(tx[k], false);
            const auto env = wire::decode_envelope(payload);
            ASSERT_TRUE(env.ok());
            EXPECT_EQ(env->sequence, k - 2);
            EXPECT_TRUE(env->truncated());
        }
        EXPECT_EQ(w.stats().answers.datagrams_out.get(), tx.size());
        EXPECT_EQ(port.scattered_dropped(), 0u);
    }
    EXPECT_EQ((*pool)->available(), (*pool)->size());
}

TEST(DpdkPortTest, NullPortPollsAndTransmits)
{
    auto pool = Mempool::create("null_pool", Mempool::size_for(2, 256, 256, 1));
    ASSERT_TRUE(pool.ok()) << pool.error();
    {
        auto set = configure_port({.port_id = port_named("net_null0"), .queues = 2,
                                   .rx_ring = 256, .tx_ring = 256},
                                  **pool);
        ASSERT_TRUE(set.ok()) << set.error();
        ASSERT_EQ((*set)->queue_count(), 2u);
        EXPECT_TRUE((*set)->rss());
        const resolve::Policy policy;
        const auto table = idpath::test::small_table();
        worker::Worker<DpdkPort> w((*set)->queue(1), packet::test::our_config(), policy);
        EXPECT_EQ(w.poll_once(*table, wt::kNow, 0), 0u); // no-rx=1
        send((*set)->queue(1), {std::vector<std::uint8_t>(64, 0xab),
                                std::vector<std::uint8_t>(1500, 0xcd)});
    }
    // The null PMD frees what it transmits.
    EXPECT_EQ((*pool)->available(), (*pool)->size());
}

TEST(DpdkPortTest, ConfiguringARunningPortFailsAndLeavesItRunning)
{
    // rte_eth_dev_configure refuses a started port: the failure comes before configure_port
    // owns anything, so the set that does own the port must keep it.
    auto pool = Mempool::create("busy_pool", Mempool::size_for(1, 256, 256, 1));
    ASSERT_TRUE(pool.ok()) << pool.error();
    const std::uint16_t null1 = port_named("net_null1");
    {
        auto set = configure_port({.port_id = null1, .rx_ring = 256, .tx_ring = 256}, **pool);
        ASSERT_TRUE(set.ok()) << set.error();
        EXPECT_FALSE((*set)->tx_checksum_offload()); // net_null offers no checksum offload
        EXPECT_FALSE((*set)->queue(0).tx_checksum_offload());
        const auto again = configure_port({.port_id = null1}, **pool);
        ASSERT_FALSE(again.ok());
        EXPECT_NE(again.error().find("rte_eth_dev_configure"), std::string::npos)
            << again.error();
        EXPECT_TRUE(has_port("net_null1"));
        send((*set)->queue(0), {std::vector<std::uint8_t>(64, 0xab)}); // still transmitting
    }
    EXPECT_EQ((*pool)->available(), (*pool)->size());
}

TEST(DpdkPortTest, FailedQueueSetupClosesThePort)
{
    // net_tap fills its RX ring from the pool at queue setup; a pool smaller than the ring
    // makes that fail after rte_eth_dev_configure, the path that used to leave the port open.
    if (!has_port("net_tap1"))
        GTEST_SKIP() << "no net_tap1 (needs CAP_NET_ADMIN and /dev/net/tun)";
    auto pool = Mempool::create("tiny_pool", 63);
    ASSERT_TRUE(pool.ok()) << pool.error();
    const auto set =
        configure_port({.port_id = port_named("net_tap1"), .rx_ring = 512, .tx_ring = 512},
                       **pool);
    ASSERT_FALSE(set.ok());
    EXPECT_NE(set.error().find("rte_eth_rx_queue_setup"), std::string::npos) << set.error();
    // Closed: DPDK released the port (and the kernel its interface), and the mbufs the
    // half-set-up queue had taken are back in the pool.
    EXPECT_FALSE(has_port("net_tap1"));
    EXPECT_EQ(::if_nametoindex((g_tap_iface + "b").c_str()), 0u);
    EXPECT_EQ((*pool)->available(), (*pool)->size());
}

/// A raw AF_PACKET socket on the kernel's side of the tap: what it sends, DPDK receives, and
/// what DPDK transmits, it receives.
class KernelSide {
public:
    explicit KernelSide(const std::string& iface)
        : fd_(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL)))
    {
        sockaddr_ll a{};
        a.sll_family = AF_PACKET;
        a.sll_protocol = htons(ETH_P_ALL);
        a.sll_ifindex = static_cast<int>(::if_nametoindex(iface.c_str()));
        ok_ = fd_ >= 0 && a.sll_ifindex != 0 &&
              ::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    }
    ~KernelSide()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    KernelSide(const KernelSide&) = delete;
    KernelSide& operator=(const KernelSide&) = delete;

    bool ok() const { return ok_; }
    bool send(const std::vector<std::uint8_t>& frame)
    {
        return ::send(fd_, frame.data(), frame.size(), 0) == static_cast<ssize_t>(frame.size());
    }
    /// Frames arriving from DPDK (not the kernel's own outgoing ones) whose UDP source port is
    /// the service port, calling `poll` meanwhile, until done(frames so far) or `timeout_ms`.
    template <typename Poll, typename Done>
    std::vector<std::vector<std::uint8_t>> replies(int timeout_ms, Poll poll, Done done)
    {
        std::vector<std::vector<std::uint8_t>> out;
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (!done(out.size()) && std::chrono::steady_clock::now() < end) {
            poll();
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 5) <= 0)
                continue;
            std::vector<std::uint8_t> buf(2048);
            sockaddr_ll from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0,
                                         reinterpret_cast<sockaddr*>(&from), &len);
            if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
                continue;
            buf.resize(static_cast<std::size_t>(n));
            if (is_reply(buf))
                out.push_back(std::move(buf));
        }
        return out;
    }

private:
    static bool is_reply(const std::vector<std::uint8_t>& f)
    {
        if (f.size() < 14 + 40 + 8)
            return false;
        const std::uint16_t type = static_cast<std::uint16_t>(f[12] << 8 | f[13]);
        const std::size_t udp = type == 0x0800 ? 14 + 20 : type == 0x86dd ? 14 + 40 : 0;
        return udp != 0 && (f[udp] << 8 | f[udp + 1]) == wt::kServicePort;
    }

    int fd_;
    bool ok_ = false;
};

std::uint16_t be16_at(const std::vector<std::uint8_t>& f, std::size_t at)
{
    return static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]);
}

TEST(DpdkPortTest, TapChecksumOffloadBothWays)
{
    if (!has_port("net_tap0"))
        GTEST_SKIP() << "no net_tap0 (needs CAP_NET_ADMIN and /dev/net/tun)";
    auto pool = Mempool::create("tap_pool", Mempool::size_for(1, 512, 512, 1));
    ASSERT_TRUE(pool.ok()) << pool.error();
    {
        auto set = configure_port({.port_id = port_named("net_tap0"), .rx_ring = 512,
                                   .tx_ring = 512},
                                  **pool);
        ASSERT_TRUE(set.ok()) << set.error();
        // net_tap (22.11) offers both, computed by the PMD in software: it stands in for a NIC.
        EXPECT_TRUE((*set)->rx_checksum_offload());
        EXPECT_TRUE((*set)->tx_checksum_offload());
        DpdkPort& port = (*set)->queue(0);
        ASSERT_TRUE(port.tx_checksum_offload());
        KernelSide kernel(g_tap_iface);
        ASSERT_TRUE(kernel.ok()) << std::strerror(errno);

        // RX: the PMD's verdicts reach PacketRef::rx_checksums.
        auto good = wt::udp4_frame(wt::request_payload("88.100.1/abc"));
        auto bad_udp = good;
        bad_udp[14 + 20 + 6] ^= 0x01;
        auto bad_ip = good;
        bad_ip[14 + 10] ^= 0x01;
        const auto good6 = wt::udp6_frame(wt::request_payload("88.100.1/abc"));
        using packet::ChecksumHint;
        using packet::ChecksumStatus;
        const std::vector<std::pair<std::vector<std::uint8_t>, ChecksumHint>> cases = {
            {good, {ChecksumStatus::Good, ChecksumStatus::Good}},
            {bad_udp, {ChecksumStatus::Good, ChecksumStatus::Bad}},
            {bad_ip, {ChecksumStatus::Bad, ChecksumStatus::Good}},
            {good6, {ChecksumStatus::Unknown, ChecksumStatus::Good}},
        };
        for (std::size_t c = 0; c < cases.size(); ++c) {
            const auto& [frame, hint] = cases[c];
            ASSERT_TRUE(kernel.send(frame));
            bool seen = false;
            const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            std::array<worker::PacketRef, worker::kBurstSize> refs{};
            while (!seen && std::chrono::steady_clock::now() < end) {
                const std::size_t n = port.rx_burst(refs);
                for (std::size_t i = 0; i < n; ++i) {
                    // The kernel talks on the tap too (IPv6 MLD, router solicitations).
                    if (refs[i].length != frame.size() ||
                        std::memcmp(refs[i].data, frame.data(), frame.size()) != 0)
                        continue;
                    seen = true;
                    EXPECT_EQ(refs[i].rx_checksums, hint) << "case " << c;
                }
                port.free({refs.data(), n});
            }
            EXPECT_TRUE(seen) << "case " << c << " sent on " << g_tap_iface
                              << " never reached rx_burst";
        }

        // TX: the worker leaves the checksums to the PMD; the kernel receives them right.
        const resolve::Policy policy;
        const auto table = idpath::test::small_table();
        worker::Worker<DpdkPort> w(port, packet::test::our_config(), policy);
        for (const auto& f : {good, good6, wt::udp4_frame(wt::request_payload("88.100.1/big")),
                              wt::udp4_frame(wt::request_payload("88.100.1/abc"),
                                             {{0x8100, 100}}),
                              bad_udp})
            ASSERT_TRUE(kernel.send(f));
        // Done when all five requests were handled and every datagram sent came back.
        const auto tx = kernel.replies(
            3000, [&] { w.poll_once(*table, wt::kNow, 0); },
            [&](std::size_t got) {
                const auto& p = w.stats().packets;
                return p.of(packet::Verdict::HandleRequest) == 4 &&
                       p.of(packet::MalformedReason::BadUdpChecksum) == 1 &&
                       got == w.stats().tx.get();
            });
        ASSERT_GE(tx.size(), 5u);
        EXPECT_EQ(w.stats().packets.of(packet::MalformedReason::BadUdpChecksum), 1u);
        EXPECT_EQ(w.stats().packets.of(packet::Verdict::HandleRequest), 4u);
        EXPECT_EQ(tx.size(), w.stats().tx.get());
        for (const auto& f : tx) {
            const bool tagged = be16_at(f, 12) == 0x8100;
            const std::size_t l3 = tagged ? 18 : 14;
            const bool v6 = be16_at(f, l3 - 2) == 0x86dd;
            if (!v6) { // the PMD filled the header checksum the worker left 0
                EXPECT_NE(be16_at(f, l3 + 10), 0);
                EXPECT_EQ(packet::test::ref_checksum(packet::test::slice(f.data() + l3, 20)), 0);
            }
            EXPECT_NE(be16_at(f, l3 + (v6 ? 40 : 20) + 6), 0);
            wt::client_side_payload(f, v6); // UDP checksum, lengths, addresses, from the client
        }
    }
    EXPECT_EQ((*pool)->available(), (*pool)->size());
}

} // namespace
} // namespace idpath::dpdk
