// The run loop's side of probe mode: a sampled request's frame is captured as received, before
// the reply overwrote it, and each reply frame as transmitted; one request in N exactly; nothing
// visible before the burst's tx_burst; a full ring counted, answering unaffected; nothing
// captured when the probe is off.

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/querylog/probe.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/worker/watched_port.hpp"

namespace idpath::worker::test {
namespace {

using querylog::ProbeDirection;
using querylog::ProbeSlot;

std::uint64_t g_now_ns = 0;
std::uint64_t fake_clock() noexcept
{
    return g_now_ns;
}

std::vector<std::uint8_t> bytes_of(const ProbeSlot& s)
{
    return {s.data.begin(), s.data.begin() + s.length};
}

/// The transmit takes 700 ns.
using TimedPort = WatchedPort<querylog::ProbeRing>;
constexpr std::uint64_t kTxNs = 700;

struct ProbedRig {
    explicit ProbedRig(std::uint32_t sample = 1, std::size_t slots = 64)
        : ring(slots), probe(querylog::ProbeTarget{&ring, 3, sample, querylog::kProbeSnapMax}),
          port(64, ring, g_now_ns, kTxNs), worker(port, packet::test::our_config(), policy)
    {
        worker.set_probe(&probe, &fake_clock);
    }
    std::size_t poll() { return worker.poll_once(*table, kNow, 0); }

    querylog::ProbeRing ring;
    querylog::Probe probe;
    resolve::Policy policy;
    TimedPort port;
    Worker<TimedPort> worker;
    std::shared_ptr<const table::Table> table = idpath::test::small_table();
};

TEST(WorkerProbe, CapturesTheRequestAsReceivedAndEveryReplyFrame)
{
    ProbedRig rig;
    g_now_ns = 5'000;
    const auto small = udp4_frame(request_payload("88.100.1/abc"));
    const auto big = udp6_frame(request_payload("88.100.1/big"));
    ASSERT_TRUE(rig.port.mem.inject(small));
    ASSERT_TRUE(rig.port.mem.inject(packet::golden::k_arp_ours)); // answered, not a Handle request
    ASSERT_TRUE(rig.port.mem.inject(big));
    ASSERT_EQ(rig.poll(), 3u);
    ASSERT_EQ(rig.port.visible_at_tx, std::vector<std::size_t>{0}); // published after tx_burst
    const auto sent = rig.port.mem.take_tx();
    const auto got = drain(rig.ring);
    // abc: request + 1 reply; the ARP reply is not captured; big: request + its datagrams.
    const std::size_t big_datagrams = sent.size() - 2;
    ASSERT_GT(big_datagrams, 1u);
    ASSERT_EQ(got.size(), 2 + 1 + big_datagrams);
    EXPECT_EQ(bytes_of(got[0]), small); // as received, though its buffer now holds the reply
    EXPECT_EQ(got[0].direction, ProbeDirection::Request);
    EXPECT_EQ(got[0].time_ns, 5'000u);
    EXPECT_EQ(bytes_of(got[1]), sent[0]);
    EXPECT_EQ(got[1].direction, ProbeDirection::Response);
    EXPECT_EQ(got[1].time_ns, 5'700u); // when the burst was transmitted
    client_side_payload(bytes_of(got[1]), false);
    EXPECT_EQ(bytes_of(got[2]), big);
    for (std::size_t k = 0; k < big_datagrams; ++k) {
        SCOPED_TRACE(k);
        EXPECT_EQ(bytes_of(got[3 + k]), sent[2 + k]);
        EXPECT_EQ(got[3 + k].direction, ProbeDirection::Response);
    }
    for (const auto& s : got) {
        EXPECT_EQ(s.link, querylog::ProbeLink::Ethernet);
        EXPECT_EQ(s.source, 3u);
        EXPECT_EQ(s.orig_length, s.length);
    }
    EXPECT_EQ(rig.probe.stats().captured.get(), got.size());
    EXPECT_EQ(rig.probe.stats().lost.get(), 0u);
}

TEST(WorkerProbe, SamplesExactlyOneRequestInN)
{
    ProbedRig rig(5, 256);
    const auto frame = udp4_frame(request_payload("88.100.1/abc"));
    for (int burst = 0; burst < 4; ++burst) {
        for (std::size_t i = 0; i < kBurstSize; ++i)
            ASSERT_TRUE(rig.port.mem.inject(frame));
        ASSERT_EQ(rig.poll(), kBurstSize);
        rig.port.mem.drain_tx();
    }
    // 128 requests: numbers 0, 5, ..., 125 sampled, each with its one reply.
    const auto got = drain(rig.ring);
    EXPECT_EQ(got.size(), 2u * 26u);
    EXPECT_EQ(rig.probe.stats().sampled_out.get(), 128u - 26u);
    EXPECT_EQ(rig.worker.stats().tx.get(), 128u);
}

TEST(WorkerProbe, AFullRingCountsLossAndAnsweringGoesOn)
{
    ProbedRig rig(1, 8);
    const auto frame = udp4_frame(request_payload("88.100.1/abc"));
    for (std::size_t i = 0; i < kBurstSize; ++i)
        ASSERT_TRUE(rig.port.mem.inject(frame));
    ASSERT_EQ(rig.poll(), kBurstSize);
    EXPECT_EQ(rig.worker.stats().tx.get(), kBurstSize);
    EXPECT_EQ(rig.probe.stats().captured.get(), 8u);
    EXPECT_EQ(rig.probe.stats().lost.get(), 2 * kBurstSize - 8);
    const auto got = drain(rig.ring);
    ASSERT_EQ(got.size(), 8u);
    EXPECT_EQ(got[0].direction, ProbeDirection::Request);
    EXPECT_EQ(got[1].direction, ProbeDirection::Response);
}

TEST(WorkerProbe, OffCapturesNothing)
{
    querylog::ProbeRing ring(64);
    querylog::Probe off; // no ring
    resolve::Policy policy;
    TimedPort port(64, ring, g_now_ns, kTxNs);
    Worker<TimedPort> worker(port, packet::test::our_config(), policy);
    worker.set_probe(&off, &fake_clock);
    ASSERT_TRUE(port.mem.inject(udp4_frame(request_payload("88.100.1/abc"))));
    ASSERT_EQ(worker.poll_once(*idpath::test::small_table(), kNow, 0), 1u);
    EXPECT_EQ(port.mem.take_tx().size(), 1u);
    EXPECT_EQ(off.stats().captured.get() + off.stats().sampled_out.get(), 0u);
}

} // namespace
} // namespace idpath::worker::test
