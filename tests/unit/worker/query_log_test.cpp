// The run loop's side of the log mirror: one record per Handle request a burst completed,
// answered or silenced, with what the frame and the answer said, published after the burst's
// tx_burst with its latency; nothing else logged, nothing when the log is off.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dataplane/querylog/query_log.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/worker/watched_port.hpp"

namespace idpath::worker::test {
namespace {

using querylog::Record;

std::uint64_t g_now_ns = 0;
std::uint64_t fake_clock() noexcept
{
    return g_now_ns;
}

/// The transmit takes 500 ns, so the stamped latency is known.
using LogPort = WatchedPort<querylog::Ring>;
constexpr std::uint64_t kTxNs = 500;

std::string handle_of(const Record& r)
{
    return {reinterpret_cast<const char*>(r.handle), r.handle_stored};
}

struct LoggedRig {
    explicit LoggedRig(std::size_t buffers = 64)
        : port(buffers, ring, g_now_ns, kTxNs), worker(port, packet::test::our_config(), policy)
    {
        worker.set_query_log(&log, &fake_clock);
    }
    std::size_t poll() { return worker.poll_once(*table, kNow, 0); }

    querylog::Ring ring{64};
    querylog::QueryLog log{&ring, 5, 1'000'000'000};
    resolve::Policy policy;
    LogPort port;
    Worker<LogPort> worker;
    std::shared_ptr<const table::Table> table = idpath::test::small_table();
};

TEST(WorkerQueryLog, OneRecordPerRequestPublishedAfterTheBurst)
{
    LoggedRig rig;
    g_now_ns = 1'000'000;
    const auto abc = request_payload("88.100.1/abc");
    const auto big = request_payload("88.100.1/big");
    const std::vector<std::uint8_t> junk(9, 0xee);
    ASSERT_TRUE(rig.port.mem.inject(udp4_frame(abc)));
    ASSERT_TRUE(rig.port.mem.inject(packet::golden::k_arp_ours)); // answered, not logged
    ASSERT_TRUE(rig.port.mem.inject(udp6_frame(big)));
    ASSERT_TRUE(rig.port.mem.inject(udp4_frame(request_payload("88.100.1/nope"), {}, 40001)));
    ASSERT_TRUE(rig.port.mem.inject(udp4_frame(junk))); // silenced
    ASSERT_EQ(rig.poll(), 5u);
    ASSERT_EQ(rig.port.visible_at_tx, std::vector<std::size_t>{0}); // nothing before tx_burst

    const auto got = drain(rig.ring);
    ASSERT_EQ(got.size(), 5u); // the four requests, then the source's first heartbeat
    for (std::size_t i = 0; i < 4; ++i) {
        const Record& r = got[i];
        SCOPED_TRACE(i);
        EXPECT_EQ(r.kind, querylog::Kind::Query);
        EXPECT_EQ(r.seq, i + 1); // claimed in request order
        EXPECT_EQ(r.source, 5u);
        EXPECT_EQ(r.time_ns, 1'000'000u);
        EXPECT_EQ(r.transport, querylog::Transport::Udp);
        EXPECT_EQ(r.server_port, kServicePort);
    }
    EXPECT_EQ(got[4].kind, querylog::Kind::Heartbeat);
    EXPECT_EQ(got[4].seq, 5u);
    EXPECT_EQ(got[4].time_ns, 1'000'500u);

    const auto client4 = packet::map_ipv4(packet::test::client_config().ipv4[0].data());
    const auto ours4 = packet::map_ipv4(packet::test::our_config().ipv4[0].data());
    const Record& a = got[0];
    EXPECT_EQ(a.family, 4u);
    EXPECT_EQ(handle_of(a), "88.100.1/abc");
    EXPECT_EQ(a.opcode, 1u);
    EXPECT_EQ(a.response_code, 1u);
    EXPECT_EQ(a.values, 4u);
    EXPECT_EQ(a.datagrams, 1u);
    EXPECT_EQ(a.request_bytes, abc.size());
    EXPECT_EQ(a.client_port, kClientPort);
    EXPECT_TRUE(std::equal(client4.begin(), client4.end(), a.client));
    EXPECT_TRUE(std::equal(ours4.begin(), ours4.end(), a.server));
    EXPECT_EQ(a.latency_ns, 500u);

    const Record& b = got[1];
    EXPECT_EQ(b.family, 6u);
    EXPECT_EQ(handle_of(b), "88.100.1/big");
    EXPECT_EQ(b.values, 2u);
    EXPECT_GT(b.datagrams, 1u);
    EXPECT_EQ(b.datagrams, rig.worker.stats().answers.datagrams_out.get() - 2);
    const auto client6 = packet::test::client_config().ipv6[0];
    EXPECT_TRUE(std::equal(client6.begin(), client6.end(), b.client));
    EXPECT_EQ(b.latency_ns, 500u);

    const Record& c = got[2];
    EXPECT_EQ(handle_of(c), "88.100.1/nope");
    EXPECT_EQ(c.response_code, 100u);
    EXPECT_EQ(c.values, 0u);
    EXPECT_EQ(c.client_port, 40001u);

    const Record& d = got[3];
    EXPECT_EQ(d.silence, static_cast<std::uint8_t>(resolve::Silence::BadEnvelope));
    EXPECT_EQ(d.response_code, 0u);
    EXPECT_EQ(d.datagrams, 0u);
    EXPECT_EQ(d.response_bytes, 0u);
    EXPECT_EQ(d.latency_ns, 0u);
    EXPECT_EQ(d.request_bytes, junk.size());

    EXPECT_EQ(rig.log.stats().produced.get(), 5u);
    EXPECT_EQ(rig.log.stats().lost.get(), 0u);
}

TEST(WorkerQueryLog, IdlePollsSendHeartbeatsAndAFullRingCountsLoss)
{
    LoggedRig rig;
    g_now_ns = 0;
    EXPECT_EQ(rig.poll(), 0u);
    EXPECT_EQ(drain(rig.ring).size(), 1u); // the first heartbeat, from an idle poll
    g_now_ns = 999'999'999;
    rig.poll();
    EXPECT_EQ(rig.ring.peek().size(), 0u);
    g_now_ns = 1'000'000'000;
    rig.poll();
    EXPECT_EQ(drain(rig.ring).size(), 1u);

    // Never drained: 64 slots, 3 bursts of 32 requests, no heartbeat due until the third.
    const auto frame = udp4_frame(request_payload("88.100.1/abc"));
    for (int burst = 0; burst < 3; ++burst) {
        ++g_now_ns;
        for (std::size_t i = 0; i < kBurstSize; ++i)
            ASSERT_TRUE(rig.port.mem.inject(frame));
        ASSERT_EQ(rig.poll(), kBurstSize);
        rig.port.mem.drain_tx();
    }
    g_now_ns = 2'000'000'000;
    rig.poll(); // idle, a heartbeat due: lost too
    EXPECT_EQ(rig.worker.stats().tx.get(), 3 * kBurstSize); // answering never waited on the log
    EXPECT_EQ(rig.log.stats().produced.get(), 2 + 3 * kBurstSize + 1);
    EXPECT_EQ(rig.log.stats().lost.get(), kBurstSize + 1);
    auto got = drain(rig.ring);
    ASSERT_EQ(got.size(), 64u);
    EXPECT_EQ(got.front().seq, 3u);
    EXPECT_EQ(got.back().seq, 66u);

    // The next heartbeat reports the loss, and its seq shows the gap.
    g_now_ns = 3'000'000'000;
    rig.poll();
    got = drain(rig.ring);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, querylog::Kind::Heartbeat);
    EXPECT_EQ(got[0].seq, 66 + kBurstSize + 1 + 1);
    EXPECT_EQ(querylog::heartbeat_body(got[0]).produced, got[0].seq);
    EXPECT_EQ(querylog::heartbeat_body(got[0]).lost, kBurstSize + 1);
}

TEST(WorkerQueryLog, AnAnswerThatCouldNotBeSentIsRecordedAsNotSent)
{
    LoggedRig rig(2); // no buffers for the answer's other datagrams
    g_now_ns = 10;
    ASSERT_TRUE(rig.port.mem.inject(udp4_frame(request_payload("88.100.1/big"))));
    ASSERT_EQ(rig.poll(), 1u);
    EXPECT_EQ(rig.worker.stats().alloc_failed.get(), 1u);
    const auto got = drain(rig.ring);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(handle_of(got[0]), "88.100.1/big");
    EXPECT_EQ(got[0].response_code, 1u);
    EXPECT_EQ(got[0].datagrams, 0u);
    EXPECT_EQ(got[0].response_bytes, 0u);
    EXPECT_EQ(got[0].latency_ns, 0u);
}

TEST(WorkerQueryLog, OffByDefaultAndWhenTheLogIsDisabled)
{
    Rig rig;
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"))));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_EQ(rig.port.take_tx().size(), 1u);

    querylog::QueryLog off;
    rig.worker.set_query_log(&off, &fake_clock);
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"))));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_EQ(rig.port.take_tx().size(), 1u);
    EXPECT_EQ(off.stats().produced.get(), 0u);
}

} // namespace
} // namespace idpath::worker::test
