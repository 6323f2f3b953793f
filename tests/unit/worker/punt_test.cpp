// The recursive role's DPDK path through the run loop (dataplane/worker/punt.hpp): misses with
// REC set leave through the worker's outbox with their frame and classification, hits and
// non-recursive requests are answered as before, and the resolver threads' reply frames come
// back through the inbox and out of the port, counted, whatever the port does with them.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "dataplane/querylog/probe.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/worker/punt.hpp"
#include "tests/unit/worker/watched_port.hpp"

namespace idpath::worker::test {
namespace {

constexpr std::uint32_t kNoRecursion = 0x09000000; // CA | PO: the default flags without REC

resolve::Policy recursive_policy()
{
    resolve::Policy p;
    p.recursive = true;
    return p;
}

struct PuntRig : Rig {
    explicit PuntRig(std::size_t entries = 8) : Rig(64, MemPort::kDefaultBufferSize, recursive_policy()),
                                                queues(entries, entries)
    {
        worker.set_punt(&queues);
    }
    PuntQueues queues;
};

std::vector<std::uint8_t> payload_of(const FrameMiss& m)
{
    const ByteSpan p = m.payload();
    return {p.begin(), p.end()};
}

std::uint32_t response_code(const std::vector<std::uint8_t>& payload)
{
    const auto m = wire::decode_message(ByteSpan(payload).subspan(wire::kEnvelopeSize));
    EXPECT_TRUE(m.ok());
    return m.ok() ? m->header.response_code : 0;
}

/// Gives the worker one reply frame for `miss` carrying `payload`, as a resolver thread does.
bool give_reply(PuntQueues& q, const FrameMiss& miss, ByteSpan payload)
{
    return q.replies.give(1, [&](std::size_t, ReplyFrame& slot) {
        slot.length = static_cast<std::uint16_t>(
            punt_reply_frame(miss, payload, 7, {slot.frame.data(), slot.frame.size()}));
    });
}

TEST(HandoffRings, InboxGivesAllOrNothing)
{
    InboxRing<int> ring(4);
    EXPECT_TRUE(ring.give(3, [](std::size_t i, int& slot) { slot = static_cast<int>(i) + 10; }));
    EXPECT_FALSE(ring.give(2, [](std::size_t, int&) { ADD_FAILURE() << "no room: nothing is written"; }));
    auto r = ring.peek();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r.first[0], 10);
    ring.release(3);
    EXPECT_TRUE(ring.give(4, [](std::size_t i, int& slot) { slot = static_cast<int>(i); }));
    r = ring.peek();
    ASSERT_EQ(r.size(), 4u); // wrapped: two spans
    std::vector<int> seen(r.first.begin(), r.first.end());
    seen.insert(seen.end(), r.second.begin(), r.second.end());
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
}

TEST(HandoffRings, OutboxHandsOutOldestFirstOnlyWhatWasPushed)
{
    OutboxRing<int> ring(4);
    int out = 0;
    int* slot = ring.claim();
    ASSERT_NE(slot, nullptr);
    *slot = 1;
    EXPECT_FALSE(ring.take(out)); // claimed, not pushed
    slot = ring.claim();
    ASSERT_NE(slot, nullptr);
    *slot = 2;
    ring.push();
    ASSERT_TRUE(ring.take(out));
    EXPECT_EQ(out, 1);
    ASSERT_TRUE(ring.take(out));
    EXPECT_EQ(out, 2);
    EXPECT_FALSE(ring.take(out));
}

TEST(WorkerPunt, AMissWithRecGoesToTheOutboxAndIsNotDropped)
{
    PuntRig rig;
    const auto request = request_payload("99.1/unknown");
    ASSERT_TRUE(rig.port.inject(udp4_frame(request)));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    EXPECT_EQ(rig.stats().answers.punted.get(), 1u);
    EXPECT_EQ(rig.stats().answers.punt_dropped.get(), 0u);
    EXPECT_EQ(rig.stats().dropped.get(), 0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u); // the copy travels, the buffer is back
    auto miss = std::make_unique<FrameMiss>();
    ASSERT_TRUE(rig.queues.misses.take(*miss));
    EXPECT_EQ(payload_of(*miss), request);
    EXPECT_EQ(miss->view.src_port, kClientPort);
    EXPECT_EQ(miss->view.family, packet::L3Family::Ipv4);
    EXPECT_TRUE(miss->view.payload.empty()); // nothing points into the worker's buffer
    EXPECT_FALSE(rig.queues.misses.take(*miss));
}

std::uint64_t probe_clock() noexcept
{
    return 42;
}

TEST(WorkerPunt, ASampledMissIsCapturedAndMarkedForTheResolversReply)
{
    // One request in two sampled: the first miss is probed, the second is not. The worker captures
    // the request only; its reply is the resolver thread's to capture, told by FrameMiss::probed.
    PuntRig rig;
    querylog::ProbeRing ring(16);
    querylog::Probe probe(querylog::ProbeTarget{&ring, 1, 2, querylog::kProbeSnapMax});
    rig.worker.set_probe(&probe, &probe_clock);
    const auto first = udp4_frame(request_payload("99.1/first"));
    ASSERT_TRUE(rig.port.inject(first));
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("99.1/second"))));
    EXPECT_EQ(rig.poll(), 2u);
    auto miss = std::make_unique<FrameMiss>();
    ASSERT_TRUE(rig.queues.misses.take(*miss));
    EXPECT_TRUE(miss->probed);
    EXPECT_EQ(miss->rx_ns, 42u);
    ASSERT_TRUE(rig.queues.misses.take(*miss));
    EXPECT_FALSE(miss->probed);
    const auto got = drain(ring);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].direction, querylog::ProbeDirection::Request);
    EXPECT_EQ(std::vector<std::uint8_t>(got[0].data.begin(), got[0].data.begin() + got[0].length), first);
}

TEST(WorkerPunt, HitsAndRequestsWithoutRecAreAnsweredOnTheHotPath)
{
    PuntRig rig;
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc")))); // in the table
    ASSERT_TRUE(rig.port.inject(udp4_frame(idpath::test::make_request("99.1/unknown", kNoRecursion).bytes)));
    EXPECT_EQ(rig.poll(), 2u);
    const auto sent = rig.port.take_tx();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(response_code(client_side_payload(sent[0], false)), 1u);
    // Not homed here, and no recursion asked for.
    EXPECT_EQ(response_code(client_side_payload(sent[1], false)), 301u);
    EXPECT_EQ(rig.stats().answers.punted.get(), 0u);
    auto m = std::make_unique<FrameMiss>();
    EXPECT_FALSE(rig.queues.misses.take(*m));
}

TEST(WorkerPunt, AFullOutboxLosesTheMissCounted)
{
    PuntRig rig(2);
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("99.1/unknown"))));
    EXPECT_EQ(rig.poll(), 3u);
    EXPECT_EQ(rig.stats().answers.punt_dropped.get(), 1u);
    EXPECT_EQ(rig.stats().dropped.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    auto m = std::make_unique<FrameMiss>();
    EXPECT_TRUE(rig.queues.misses.take(*m));
    EXPECT_TRUE(rig.queues.misses.take(*m));
    EXPECT_FALSE(rig.queues.misses.take(*m));
}

class WorkerPuntReply : public ::testing::TestWithParam<bool> {};

TEST_P(WorkerPuntReply, TheResolversFrameLeavesOnTheNextPollEvenWithNothingReceived)
{
    const bool ipv6 = GetParam();
    PuntRig rig;
    const auto request = request_payload("99.1/unknown");
    const Tags vlan = {{0x8100, 0x0064}};
    ASSERT_TRUE(rig.port.inject(ipv6 ? udp6_frame(request, vlan) : udp4_frame(request, vlan)));
    rig.poll();
    auto miss = std::make_unique<FrameMiss>();
    ASSERT_TRUE(rig.queues.misses.take(*miss));

    std::vector<std::uint8_t> answer(300);
    for (std::size_t i = 0; i < answer.size(); ++i)
        answer[i] = static_cast<std::uint8_t>(i * 13);
    ASSERT_TRUE(give_reply(rig.queues, *miss, answer));
    EXPECT_EQ(rig.poll(), 1u); // no frame received, one reply sent: not idle
    const auto sent = rig.port.take_tx();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(client_side_payload(sent[0], ipv6), answer);
    EXPECT_EQ(sent[0][12], 0x81); // the VLAN tag as received
    EXPECT_EQ(sent[0][15], 0x64);
    EXPECT_EQ(rig.stats().punt_tx.get(), 1u);
    EXPECT_EQ(rig.stats().tx.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.poll(), 0u); // taken once
}

INSTANTIATE_TEST_SUITE_P(Families, WorkerPuntReply, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "Ipv6" : "Ipv4"; });

TEST(WorkerPunt, RepliesThatCannotBeSentAreCountedAndFreed)
{
    PuntRig rig;
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("99.1/unknown"))));
    rig.poll();
    auto miss = std::make_unique<FrameMiss>();
    ASSERT_TRUE(rig.queues.misses.take(*miss));
    const std::vector<std::uint8_t> answer(100, 0xab);

    // A frame the resolver could not build (length 0) is not sent.
    ASSERT_TRUE(rig.queues.replies.give(1, [](std::size_t, ReplyFrame& slot) { slot.length = 0; }));
    rig.poll();
    EXPECT_EQ(rig.stats().punt_tx_dropped.get(), 1u);
    // A port that refuses the burst.
    rig.port.set_tx_capacity(0);
    ASSERT_TRUE(give_reply(rig.queues, *miss, answer));
    rig.poll();
    EXPECT_EQ(rig.stats().punt_tx_dropped.get(), 2u);
    EXPECT_EQ(rig.stats().punt_tx.get(), 0u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    // Neither stays in the inbox to be retried.
    rig.port.set_tx_capacity(MemPort::kUnlimited);
    rig.poll();
    EXPECT_TRUE(rig.port.take_tx().empty());
}

TEST(WorkerPunt, AReplyFrameTooLargeForTheBufferIsNotWritten)
{
    PuntRig rig;
    auto miss = std::make_unique<FrameMiss>();
    const auto frame = udp4_frame(request_payload("99.1/unknown"));
    const packet::PacketView view = packet::classify(frame, packet::test::our_config());
    ASSERT_TRUE(fill_frame_miss(*miss, frame, view));
    std::vector<std::uint8_t> big(kMaxPuntFrame, 1);
    std::vector<std::uint8_t> out(kMaxPuntFrame);
    EXPECT_EQ(punt_reply_frame(*miss, big, 1, out), 0u);
    const std::vector<std::uint8_t> too_big_frame(kMaxPuntFrame + 1);
    EXPECT_FALSE(fill_frame_miss(*miss, too_big_frame, view));
}

} // namespace
} // namespace idpath::worker::test
