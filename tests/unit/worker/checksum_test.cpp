// The worker and checksum offload: RX verdicts from the port (bad dropped and counted, good not
// verified again) and TX requests (UDP replies left for the NIC when the port offers it, every
// datagram with its request, and byte for byte the software reply once completed).
#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "dataplane/packet/reply.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/worker/worker_rig.hpp"

namespace idpath::worker::test {
namespace {

namespace golden = packet::golden;
using packet::ChecksumHint;
using packet::ChecksumStatus;
using packet::TxChecksums;

/// A MemPort with a NIC's checksum offloads: rx_burst reports `hint` for every frame, and
/// tx_checksum_offload() is `offload`. Records the TX request of every frame it accepts.
struct OffloadPort {
    explicit OffloadPort(bool nic_offload) : offload(nic_offload) {}

    std::size_t rx_burst(std::span<PacketRef> burst) noexcept
    {
        const std::size_t n = mem.rx_burst(burst);
        for (std::size_t i = 0; i < n; ++i)
            burst[i].rx_checksums = hint;
        return n;
    }
    std::size_t tx_burst(std::span<PacketRef> burst) noexcept
    {
        const std::size_t n = mem.tx_burst(burst);
        for (std::size_t i = 0; i < n; ++i)
            requests.push_back(burst[i].tx_checksums);
        return n;
    }
    std::size_t alloc(std::span<PacketRef> burst) noexcept { return mem.alloc(burst); }
    void free(std::span<PacketRef> burst) noexcept { mem.free(burst); }
    bool tx_checksum_offload() const noexcept { return offload; }

    MemPort mem{256};
    bool offload;
    ChecksumHint hint{};
    std::vector<TxChecksums> requests;
};

static_assert(Port<OffloadPort>);

struct OffloadRig {
    explicit OffloadRig(bool nic_offload)
        : port(nic_offload), worker(port, packet::test::our_config(), policy)
    {
    }
    std::size_t poll() { return worker.poll_once(*table, kNow, 0); }

    resolve::Policy policy;
    OffloadPort port;
    Worker<OffloadPort> worker;
    std::shared_ptr<const table::Table> table = idpath::test::small_table();
};

std::vector<std::vector<std::uint8_t>> requests()
{
    return {udp4_frame(request_payload("88.100.1/abc")),
            udp6_frame(request_payload("88.100.1/abc")),
            udp4_frame(request_payload("88.100.1/abc"), {{0x88a8, 10}, {0x8100, 20}}),
            udp4_frame(request_payload("88.100.1/big")), // several datagrams
            udp6_frame(request_payload("88.100.1/big"))};
}

TEST(WorkerChecksums, PortsWithoutTheMemberComputeInSoftware)
{
    MemPort mem;
    EXPECT_FALSE(tx_checksum_offload(mem));
    EXPECT_TRUE(tx_checksum_offload(OffloadPort(true)));
    EXPECT_FALSE(tx_checksum_offload(OffloadPort(false)));
}

TEST(WorkerChecksums, OffloadRepliesCompleteToTheSoftwareReplies)
{
    OffloadRig soft(false);
    OffloadRig nic(true);
    for (const auto& f : requests()) {
        ASSERT_TRUE(soft.port.mem.inject(f));
        ASSERT_TRUE(nic.port.mem.inject(f));
    }
    EXPECT_EQ(soft.poll(), 5u);
    EXPECT_EQ(nic.poll(), 5u);
    auto soft_tx = soft.port.mem.take_tx();
    auto nic_tx = nic.port.mem.take_tx();
    ASSERT_GT(nic_tx.size(), 5u); // the "big" answers took several datagrams each
    ASSERT_EQ(soft_tx.size(), nic_tx.size());
    ASSERT_EQ(nic.port.requests.size(), nic_tx.size());
    for (std::size_t i = 0; i < nic_tx.size(); ++i) {
        EXPECT_EQ(soft.port.requests[i], TxChecksums{}) << i;
        const TxChecksums rq = nic.port.requests[i];
        ASSERT_NE(rq.offload, packet::TxOffload::None) << i;
        const bool v6 = rq.offload == packet::TxOffload::Ipv6Udp;
        EXPECT_EQ(rq.l3_len, v6 ? 40 : 20);
        EXPECT_EQ(rq.l2_len, nic_tx[i][12] == 0x88 ? 22 : 14); // the QinQ request keeps its tags
        EXPECT_NE(soft_tx[i], nic_tx[i]) << i; // the NIC's part is really left to it
        ASSERT_TRUE(packet::complete_tx_checksums(nic_tx[i], rq));
        EXPECT_EQ(soft_tx[i], nic_tx[i]) << "datagram " << i;
        client_side_payload(nic_tx[i], v6);
    }
    EXPECT_EQ(nic.worker.stats().tx.get(), nic_tx.size());
}

TEST(WorkerChecksums, LocalRepliesAreAlwaysFinal)
{
    OffloadRig rig(true);
    for (const ByteSpan f : {ByteSpan{golden::k_arp_ours}, ByteSpan{golden::k_ns_ours},
                             ByteSpan{golden::k_icmp4_echo}, ByteSpan{golden::k_icmp6_echo}})
        ASSERT_TRUE(rig.port.mem.inject(f));
    EXPECT_EQ(rig.poll(), 4u);
    ASSERT_EQ(rig.port.requests.size(), 4u);
    for (const TxChecksums& rq : rig.port.requests)
        EXPECT_EQ(rq, TxChecksums{});
}

TEST(WorkerChecksums, BadChecksumsFromTheNicAreCountedAndDropped)
{
    OffloadRig rig(true);
    rig.port.hint = {ChecksumStatus::Bad, ChecksumStatus::Unknown};
    ASSERT_TRUE(rig.port.mem.inject(udp4_frame(request_payload("88.100.1/abc"))));
    EXPECT_EQ(rig.poll(), 1u);
    rig.port.hint = {ChecksumStatus::Good, ChecksumStatus::Bad};
    ASSERT_TRUE(rig.port.mem.inject(udp4_frame(request_payload("88.100.1/abc"))));
    ASSERT_TRUE(rig.port.mem.inject(udp6_frame(request_payload("88.100.1/abc"))));
    EXPECT_EQ(rig.poll(), 2u);
    const WorkerStats& s = rig.worker.stats();
    EXPECT_EQ(s.tx.get(), 0u);
    EXPECT_EQ(s.dropped.get(), 3u);
    EXPECT_EQ(s.packets.of(packet::Verdict::Malformed), 3u);
    EXPECT_EQ(s.packets.of(packet::MalformedReason::BadIpv4Checksum), 1u);
    EXPECT_EQ(s.packets.of(packet::MalformedReason::BadUdpChecksum), 2u);
    EXPECT_EQ(s.answers.datagrams_out.get(), 0u); // never reached the resolver
    EXPECT_EQ(rig.port.mem.buffers_in_use(), 0u);
}

TEST(WorkerChecksums, GoodChecksumsFromTheNicAreNotVerifiedAgain)
{
    // A request whose UDP checksum is wrong: dropped on its own word, answered on the NIC's.
    auto f = udp4_frame(request_payload("88.100.1/abc"));
    f[14 + 20 + 6] ^= 0x01; // the UDP checksum field itself: the request stays intact
    OffloadRig unknown(true);
    ASSERT_TRUE(unknown.port.mem.inject(f));
    unknown.poll();
    EXPECT_EQ(unknown.worker.stats().packets.of(packet::MalformedReason::BadUdpChecksum), 1u);

    OffloadRig good(true);
    good.port.hint = {ChecksumStatus::Good, ChecksumStatus::Good};
    ASSERT_TRUE(good.port.mem.inject(f));
    good.poll();
    EXPECT_EQ(good.worker.stats().packets.of(packet::Verdict::HandleRequest), 1u);
    EXPECT_EQ(good.worker.stats().tx.get(), 1u);
}

} // namespace
} // namespace idpath::worker::test
