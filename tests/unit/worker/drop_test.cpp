// What Worker<MemPort> does not answer, and the failure paths: every received buffer is either
// transmitted or freed, and every drop is counted.

#include <gtest/gtest.h>

#include <string>

#include "dataplane/table/table.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/worker/worker_rig.hpp"

namespace idpath::worker::test {
namespace {

namespace golden = packet::golden;
using packet::Verdict;

TEST(WorkerDropTest, DropsAndCountsWhatItDoesNotAnswer)
{
    Rig rig;
    std::vector<std::uint8_t> other = ethernet(0x88cc, {}); // LLDP: not ours to serve
    other.resize(60);
    const std::span<const std::uint8_t> frames[] = {
        golden::k_udp4_fragment, golden::k_udp6_fragment, golden::k_udp4_other_port,
        golden::k_arp_other,     golden::k_ns_other,      std::span(golden::k_udp4).first(20),
        other,
        golden::k_udp4, // a HandleRequest whose payload is no Handle message: silence
    };
    for (const auto f : frames)
        ASSERT_TRUE(rig.port.inject(f));
    EXPECT_EQ(rig.poll(), std::size(frames));
    EXPECT_TRUE(rig.port.take_tx().empty());
    EXPECT_EQ(rig.port.tx_burst_calls(), 0u);
    EXPECT_EQ(rig.stats().rx.get(), std::size(frames));
    EXPECT_EQ(rig.stats().dropped.get(), std::size(frames));
    EXPECT_EQ(rig.stats().tx.get(), 0u);
    EXPECT_EQ(rig.verdicts(Verdict::Fragment), 2u);
    EXPECT_EQ(rig.verdicts(Verdict::NotForUs), 3u);
    EXPECT_EQ(rig.verdicts(Verdict::Malformed), 1u);
    EXPECT_EQ(rig.verdicts(Verdict::Other), 1u);
    EXPECT_EQ(rig.verdicts(Verdict::HandleRequest), 1u);
    EXPECT_EQ(rig.stats().unanswered.get(), 1u);
    EXPECT_EQ(rig.stats().answers.answers.get(), 0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerDropTest, MixedBurstLeavesInOneTxBurst)
{
    Rig rig;
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"))));
    ASSERT_TRUE(rig.port.inject(golden::k_udp4_fragment));
    ASSERT_TRUE(rig.port.inject(golden::k_arp_ours));
    ASSERT_TRUE(rig.port.inject(udp6_frame(request_payload("88.100.1/big"))));
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/nonexistent"))));
    EXPECT_EQ(rig.poll(), 5u);
    const auto datagrams = rig.stats().answers.datagrams_out.get();
    EXPECT_GT(datagrams, 3u);
    EXPECT_EQ(rig.port.take_tx().size(), datagrams + 1); // + the ARP reply
    EXPECT_EQ(rig.port.tx_burst_calls(), 1u);
    EXPECT_EQ(rig.stats().tx.get(), datagrams + 1);
    EXPECT_EQ(rig.stats().dropped.get(), 1u);
    EXPECT_EQ(rig.stats().answers.answers.get(), 3u);
    EXPECT_EQ(rig.stats().answers.rc_count(100), 1u); // RC_HANDLE_NOT_FOUND
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerDropTest, PollsOneBurstAtATime)
{
    Rig rig(64);
    for (int i = 0; i < 40; ++i)
        ASSERT_TRUE(rig.port.inject(golden::k_arp_ours));
    EXPECT_EQ(rig.poll(), kBurstSize);
    EXPECT_EQ(rig.poll(), 40 - kBurstSize);
    EXPECT_EQ(rig.poll(), 0u);
    EXPECT_EQ(rig.port.take_tx().size(), 40u);
    EXPECT_EQ(rig.port.tx_burst_calls(), 2u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerDropTest, AllocFailureDropsTheWholeAnswer)
{
    Rig rig(2); // the request takes one buffer; the answer needs more than the one left
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/big"))));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    EXPECT_EQ(rig.stats().alloc_failed.get(), 1u);
    EXPECT_EQ(rig.stats().answers.send_errors.get(), 1u);
    EXPECT_EQ(rig.stats().dropped.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
    // A single-datagram answer needs no extra buffer.
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"))));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_EQ(rig.port.take_tx().size(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerDropTest, TxRefusalsAreCountedAndFreed)
{
    Rig rig;
    rig.port.set_tx_capacity(1);
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"))));
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/big"))));
    EXPECT_EQ(rig.poll(), 4u);
    const auto datagrams = rig.stats().answers.datagrams_out.get();
    EXPECT_EQ(rig.stats().tx.get(), 1u);
    EXPECT_EQ(rig.stats().tx_dropped.get(), datagrams - 1);
    EXPECT_EQ(rig.port.take_tx().size(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerDropTest, ReplyLargerThanTheBufferIsDropped)
{
    const auto request = udp4_frame(request_payload("88.100.1/abc"));
    Rig rig(8, request.size() + 8);
    ASSERT_TRUE(rig.port.inject(request));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    EXPECT_EQ(rig.stats().oversize.get(), 1u);
    EXPECT_EQ(rig.stats().dropped.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

std::shared_ptr<const table::Table> huge_table()
{
    table::TableBuilder b;
    b.home("88.100.1");
    b.add("88.100.1/huge", {idpath::test::value(1, "BLOB", std::string(12000, 'z'))});
    return std::move(b).build();
}

TEST(WorkerDropTest, AnswersOverTheWorkerCapAreDropped)
{
    resolve::Policy policy;
    policy.max_udp_datagrams = 64; // let the Responder split it; the worker refuses
    Rig rig(64, MemPort::kDefaultBufferSize, policy, huge_table());
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/huge"))));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    EXPECT_GT(rig.stats().answers.datagrams_out.get(), kMaxDatagramsPerAnswer);
    EXPECT_EQ(rig.stats().too_many_datagrams.get(), 1u);
    EXPECT_EQ(rig.stats().dropped.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerDropTest, PolicyCapTurnsHugeAnswersIntoOneDatagram)
{
    Rig rig(64, MemPort::kDefaultBufferSize, {}, huge_table()); // max_udp_datagrams 8
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/huge"))));
    EXPECT_EQ(rig.poll(), 1u);
    const auto tx = rig.port.take_tx();
    ASSERT_EQ(tx.size(), 1u);
    EXPECT_LE(client_side_payload(tx[0], false).size(), wire::kMaxUdpDatagram);
    EXPECT_EQ(rig.stats().answers.oversize_for_udp.get(), 1u);
    EXPECT_EQ(rig.stats().too_many_datagrams.get(), 0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

} // namespace
} // namespace idpath::worker::test
