// DpdkPort under a real EAL (no hugepages, no PCI): Worker<DpdkPort> answering Handle requests
// over a loopback ring port, and a null port. EAL lives once per process, so this is its own
// executable with one EAL for all its tests.

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
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
        o.vdevs = {"net_null0,no-rx=1"};
        auto eal = Eal::init(o);
        ASSERT_TRUE(eal.ok()) << eal.error();
        g_eal = std::move(*eal);
    }
    void TearDown() override { g_eal.reset(); }
};

const auto* const g_env = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

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
    EXPECT_EQ(Mempool::size_for(1, 1024, 1024, 1), 4095u);
    EXPECT_EQ(Mempool::size_for(1, 64, 64, 1), 511u);
    EXPECT_EQ(Mempool::size_for(4, 1024, 1024, 4), 16383u);
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

} // namespace
} // namespace idpath::dpdk
