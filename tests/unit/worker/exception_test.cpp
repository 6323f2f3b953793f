// The exception path: a Worker<MemPort> with a second MemPort, sharing its pool, standing for
// the kernel's tap. What we do not serve but the kernel may (Other, NotForUs) goes to it
// byte-identical; what the kernel sends leaves by the main port unchanged; the rest is still
// answered or dropped, and every buffer ends transmitted or freed exactly once.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/worker/worker_rig.hpp"

namespace idpath::worker::test {
namespace {

namespace golden = packet::golden;
using packet::Verdict;
using Frame = std::vector<std::uint8_t>;

/// A Worker whose exception port `kernel` shares `port`'s pool, as the DPDK port and its
/// net_tap share a mempool.
struct ExceptionRig {
    explicit ExceptionRig(std::size_t buffers = 64)
        : port(buffers), kernel(MemPort::sharing_pool_of(port)),
          worker(port, packet::test::our_config(), policy, {}, &kernel),
          table(idpath::test::small_table())
    {
    }

    std::size_t poll() { return worker.poll_once(*table, kNow, 0); }
    const WorkerStats& stats() const { return worker.stats(); }
    std::uint64_t verdicts(Verdict v) const { return stats().packets.of(v); }

    resolve::Policy policy;
    MemPort port;
    MemPort kernel;
    Worker<MemPort> worker;
    std::shared_ptr<const table::Table> table;
};

/// A TCP SYN from the client to our IPv4 address, port 22: the kernel's sshd.
Frame tcp4_syn()
{
    Frame f = ethernet(0x0800, {});
    const std::size_t ip = f.size();
    const std::uint8_t client[] = {198, 51, 100, 7};
    const std::uint8_t ours[] = {192, 0, 2, 1};
    f.insert(f.end(), {0x45, 0, 0, 40, 0x12, 0x35, 0x40, 0, 64, 6, 0, 0});
    f.insert(f.end(), std::begin(client), std::end(client));
    f.insert(f.end(), std::begin(ours), std::end(ours));
    const std::uint16_t hc = packet::test::ref_checksum(packet::test::slice(f.data() + ip, 20));
    f[ip + 10] = static_cast<std::uint8_t>(hc >> 8);
    f[ip + 11] = static_cast<std::uint8_t>(hc);
    const std::size_t tcp = f.size();
    put16(f, 51000);                       // source port
    put16(f, 22);                          // destination port
    f.insert(f.end(), {0, 0, 0x10, 0});    // sequence number
    f.insert(f.end(), {0, 0, 0, 0});       // acknowledgment number
    f.insert(f.end(), {0x50, 0x02});       // data offset 5, SYN
    put16(f, 64240);                       // window
    f.insert(f.end(), {0, 0, 0, 0});       // checksum, urgent pointer
    const std::uint16_t c =
        packet::test::ref_l4_checksum(f.data() + ip, false, 6, f.data() + tcp, f.size() - tcp);
    f[tcp + 16] = static_cast<std::uint8_t>(c >> 8);
    f[tcp + 17] = static_cast<std::uint8_t>(c);
    f.resize(60); // Ethernet minimum: the padding must reach the kernel too
    return f;
}

/// The client's ARP reply to our own request for it: for the kernel's neighbour table.
Frame arp_reply()
{
    Frame f(std::begin(golden::k_arp_ours), std::end(golden::k_arp_ours));
    const auto ours = packet::test::our_config().mac;
    std::copy(ours.begin(), ours.end(), f.begin());      // Ethernet: unicast to us
    f[21] = 2;                                           // opcode: reply
    std::copy(ours.begin(), ours.end(), f.begin() + 32); // target hardware address: ours
    return f;
}

/// A router advertisement to all nodes (ff02::1): the kernel configures its routes from it.
Frame router_advertisement()
{
    Frame f = {0x33, 0x33, 0, 0, 0, 0x01};
    const auto router = packet::test::client_config().mac;
    f.insert(f.end(), router.begin(), router.end());
    put16(f, 0x86dd);
    const std::size_t ip = f.size();
    f.insert(f.end(), {0x60, 0, 0, 0, 0, 16, 58, 255});
    f.insert(f.end(), {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
    f.insert(f.end(), {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    const std::size_t icmp = f.size();
    f.insert(f.end(), {134, 0, 0, 0, 64, 0, 0x07, 0x08}); // hop limit 64, lifetime 1800 s
    f.insert(f.end(), {0, 0, 0, 0, 0, 0, 0, 0});          // reachable, retrans timers
    const std::uint16_t c =
        packet::test::ref_l4_checksum(f.data() + ip, true, 58, f.data() + icmp, 16);
    f[icmp + 2] = static_cast<std::uint8_t>(c >> 8);
    f[icmp + 3] = static_cast<std::uint8_t>(c);
    return f;
}

/// Something the kernel sends: its SYN-ACK, any frame will do since it is forwarded unread.
Frame kernel_frame(std::uint8_t tag)
{
    Frame f = tcp4_syn();
    std::swap_ranges(f.begin(), f.begin() + 6, f.begin() + 6);
    f[47] = 0x12; // SYN + ACK
    f.back() = tag;
    return f;
}

TEST(WorkerExceptionTest, TcpToOurAddressGoesToTheKernelByteIdentical)
{
    ExceptionRig rig;
    const Frame syn = tcp4_syn();
    ASSERT_TRUE(rig.port.inject(syn));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_EQ(rig.verdicts(Verdict::Other), 1u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    const auto out = rig.kernel.take_tx();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], syn);
    EXPECT_EQ(rig.stats().exception_out.get(), 1u);
    EXPECT_EQ(rig.stats().dropped.get(), 0u);
    EXPECT_EQ(rig.stats().tx.get(), 0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerExceptionTest, SortsAMixedBurst)
{
    ExceptionRig rig;
    const std::vector<std::span<const std::uint8_t>> for_kernel = {
        golden::k_udp4_other_port, // NotForUs: UDP to another port
        golden::k_arp_other,       // NotForUs: ARP for another address
        golden::k_ns_other,        // NotForUs: NS for another target
    };
    const Frame reply = arp_reply(); // Other
    const Frame syn = tcp4_syn();    // Other
    const auto malformed = std::span(golden::k_udp4).first(20);

    ASSERT_TRUE(rig.port.inject(golden::k_arp_ours)); // answered here, as without the kernel
    ASSERT_TRUE(rig.port.inject(for_kernel[0]));
    ASSERT_TRUE(rig.port.inject(malformed));
    ASSERT_TRUE(rig.port.inject(reply));
    ASSERT_TRUE(rig.port.inject(golden::k_udp4_fragment));
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"))));
    ASSERT_TRUE(rig.port.inject(for_kernel[1]));
    ASSERT_TRUE(rig.port.inject(golden::k_udp6_fragment));
    ASSERT_TRUE(rig.port.inject(syn));
    ASSERT_TRUE(rig.port.inject(for_kernel[2]));
    EXPECT_EQ(rig.poll(), 10u);

    EXPECT_EQ(rig.verdicts(Verdict::NotForUs), 3u);
    EXPECT_EQ(rig.verdicts(Verdict::Other), 2u);
    EXPECT_EQ(rig.verdicts(Verdict::Malformed), 1u);
    EXPECT_EQ(rig.verdicts(Verdict::Fragment), 2u);

    // The kernel's share, in arrival order, unchanged, in one tx_burst.
    const auto kernel = rig.kernel.take_tx();
    ASSERT_EQ(kernel.size(), 5u);
    EXPECT_EQ(rig.kernel.tx_burst_calls(), 1u);
    auto same = [](const Frame& a, std::span<const std::uint8_t> b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end());
    };
    EXPECT_TRUE(same(kernel[0], for_kernel[0]));
    EXPECT_EQ(kernel[1], reply);
    EXPECT_TRUE(same(kernel[2], for_kernel[1]));
    EXPECT_EQ(kernel[3], syn);
    EXPECT_TRUE(same(kernel[4], for_kernel[2]));
    EXPECT_EQ(rig.stats().exception_out.get(), 5u);

    // Ours: the ARP reply and the Handle answer; the malformed frame and fragments dropped.
    const auto wire_out = rig.port.take_tx();
    ASSERT_EQ(wire_out.size(), 2u);
    EXPECT_EQ(packet::classify(wire_out[0], packet::test::client_config()).verdict,
              Verdict::Other); // an ARP reply, as seen by the client
    client_side_payload(wire_out[1], false);
    EXPECT_EQ(rig.stats().tx.get(), 2u);
    EXPECT_EQ(rig.stats().dropped.get(), 3u);
    EXPECT_EQ(rig.stats().exception_out_dropped.get(), 0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerExceptionTest, RouterAdvertisementGoesToTheKernel)
{
    ExceptionRig rig;
    const Frame ra = router_advertisement();
    ASSERT_TRUE(rig.port.inject(ra));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_EQ(rig.verdicts(Verdict::Other) + rig.verdicts(Verdict::NotForUs), 1u);
    const auto out = rig.kernel.take_tx();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], ra);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerExceptionTest, KernelFramesLeaveByTheMainPortUnchanged)
{
    ExceptionRig rig;
    const Frame a = kernel_frame(1);
    const Frame b = kernel_frame(2);
    ASSERT_TRUE(rig.kernel.inject(a));
    ASSERT_TRUE(rig.kernel.inject(b));
    EXPECT_EQ(rig.poll(), 2u); // nothing on the main port: the kernel's frames still count
    const auto out = rig.port.take_tx();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], a);
    EXPECT_EQ(out[1], b);
    EXPECT_EQ(rig.port.tx_burst_calls(), 1u);
    EXPECT_EQ(rig.stats().exception_in.get(), 2u);
    EXPECT_EQ(rig.stats().rx.get(), 0u); // not classified, not ours
    EXPECT_EQ(rig.stats().tx.get(), 0u);
    EXPECT_TRUE(rig.kernel.take_tx().empty());
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerExceptionTest, BothDirectionsInOnePoll)
{
    ExceptionRig rig;
    ASSERT_TRUE(rig.kernel.inject(kernel_frame(1)));
    ASSERT_TRUE(rig.port.inject(tcp4_syn()));
    ASSERT_TRUE(rig.port.inject(golden::k_icmp4_echo));
    EXPECT_EQ(rig.poll(), 3u);
    const auto wire_out = rig.port.take_tx();
    ASSERT_EQ(wire_out.size(), 2u); // the kernel's frame first, then our echo reply
    EXPECT_EQ(wire_out[0], kernel_frame(1));
    EXPECT_EQ(rig.port.tx_burst_calls(), 2u); // one per direction: separate refusal counts
    EXPECT_EQ(rig.kernel.take_tx().size(), 1u);
    EXPECT_EQ(rig.stats().exception_in.get(), 1u);
    EXPECT_EQ(rig.stats().exception_out.get(), 1u);
    EXPECT_EQ(rig.stats().tx.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerExceptionTest, OneBurstFromTheKernelPerPoll)
{
    ExceptionRig rig(128);
    for (std::uint8_t i = 0; i < 40; ++i)
        ASSERT_TRUE(rig.kernel.inject(kernel_frame(i)));
    EXPECT_EQ(rig.poll(), kBurstSize);
    EXPECT_EQ(rig.poll(), 40 - kBurstSize);
    EXPECT_EQ(rig.poll(), 0u);
    const auto out = rig.port.take_tx();
    ASSERT_EQ(out.size(), 40u);
    for (std::uint8_t i = 0; i < 40; ++i)
        EXPECT_EQ(out[i].back(), i);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerExceptionTest, KernelRefusalsAreCountedAndFreed)
{
    ExceptionRig rig;
    rig.kernel.set_tx_capacity(1); // the tap's queue is full after one frame
    ASSERT_TRUE(rig.port.inject(tcp4_syn()));
    ASSERT_TRUE(rig.port.inject(arp_reply()));
    ASSERT_TRUE(rig.port.inject(golden::k_udp4_other_port));
    ASSERT_TRUE(rig.port.inject(golden::k_arp_ours));
    EXPECT_EQ(rig.poll(), 4u);
    EXPECT_EQ(rig.stats().exception_out.get(), 1u);
    EXPECT_EQ(rig.stats().exception_out_dropped.get(), 2u);
    EXPECT_EQ(rig.stats().dropped.get(), 0u); // refusals have their own counter, like tx_dropped
    EXPECT_EQ(rig.stats().tx.get(), 1u);      // the ARP reply is unaffected
    EXPECT_EQ(rig.kernel.take_tx().size(), 1u);
    EXPECT_EQ(rig.port.take_tx().size(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerExceptionTest, MainPortRefusalsOfKernelFramesAreCountedAndFreed)
{
    ExceptionRig rig;
    rig.port.set_tx_capacity(0);
    for (std::uint8_t i = 0; i < 3; ++i)
        ASSERT_TRUE(rig.kernel.inject(kernel_frame(i)));
    EXPECT_EQ(rig.poll(), 3u);
    EXPECT_EQ(rig.stats().exception_in.get(), 0u);
    EXPECT_EQ(rig.stats().exception_in_dropped.get(), 3u);
    EXPECT_EQ(rig.stats().tx_dropped.get(), 0u);
    EXPECT_EQ(rig.port.tx_pending(), 0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerExceptionTest, WithoutAnExceptionPortTheKernelsShareIsDropped)
{
    Rig rig;
    ASSERT_TRUE(rig.port.inject(tcp4_syn()));
    ASSERT_TRUE(rig.port.inject(arp_reply()));
    ASSERT_TRUE(rig.port.inject(golden::k_udp4_other_port));
    ASSERT_TRUE(rig.port.inject(golden::k_arp_ours));
    EXPECT_EQ(rig.poll(), 4u);
    EXPECT_EQ(rig.stats().dropped.get(), 3u);
    EXPECT_EQ(rig.stats().tx.get(), 1u);
    EXPECT_EQ(rig.port.take_tx().size(), 1u);
    EXPECT_EQ(rig.port.tx_burst_calls(), 1u);
    EXPECT_EQ(rig.stats().exception_out.get(), 0u);
    EXPECT_EQ(rig.stats().exception_out_dropped.get(), 0u);
    EXPECT_EQ(rig.stats().exception_in.get(), 0u);
    EXPECT_EQ(rig.stats().exception_in_dropped.get(), 0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

// Where the kernel shares the NIC (AF_XDP, AF_PACKET) it answers ARP, NS and pings itself.

TEST(WorkerExceptionTest, LocalServiceLeftToTheKernelIsDroppedWithoutAnExceptionPort)
{
    Rig rig;
    rig.worker.set_answer_local(false);
    ASSERT_TRUE(rig.port.inject(golden::k_arp_ours));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_EQ(rig.verdicts(Verdict::ArpRequest), 1u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    EXPECT_EQ(rig.stats().dropped.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerExceptionTest, LocalServiceLeftToTheKernelGoesToTheExceptionPort)
{
    ExceptionRig rig;
    rig.worker.set_answer_local(false);
    ASSERT_TRUE(rig.port.inject(golden::k_arp_ours));
    EXPECT_EQ(rig.poll(), 1u);
    EXPECT_TRUE(rig.port.take_tx().empty());
    const auto out = rig.kernel.take_tx();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(std::equal(out[0].begin(), out[0].end(), std::begin(golden::k_arp_ours),
                           std::end(golden::k_arp_ours)));
    EXPECT_EQ(rig.stats().exception_out.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

// The MemPort side of the contract the exception path relies on.

TEST(MemPortPoolTest, SharedPoolBuffersCrossPorts)
{
    MemPort a(4);
    MemPort b = MemPort::sharing_pool_of(a);
    ASSERT_TRUE(b.inject(golden::k_arp_ours));
    EXPECT_EQ(a.buffers_in_use(), 1u); // one pool, seen from both ports
    PacketRef ref{};
    ASSERT_EQ(b.rx_burst({&ref, 1}), 1u);
    ASSERT_EQ(a.tx_burst({&ref, 1}), 1u);
    const auto out = a.take_tx();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(std::equal(out[0].begin(), out[0].end(), std::begin(golden::k_arp_ours),
                           std::end(golden::k_arp_ours)));
    EXPECT_EQ(b.buffers_in_use(), 0u);
    // Allocated on one, freed on the other; a second free is still caught.
    ASSERT_EQ(a.alloc({&ref, 1}), 1u);
    b.free({&ref, 1});
    EXPECT_EQ(a.buffers_in_use(), 0u);
    a.free({&ref, 1});
    EXPECT_EQ(a.bad_frees(), 1u);
    EXPECT_EQ(b.bad_frees(), 1u);
}

TEST(MemPortPoolTest, SeparatePoolsRejectEachOthersBuffers)
{
    MemPort a(4);
    MemPort b(4);
    PacketRef ref{};
    ASSERT_EQ(a.alloc({&ref, 1}), 1u);
    b.free({&ref, 1}); // same index in b's pool, but not b's buffer
    EXPECT_EQ(b.bad_frees(), 1u);
    EXPECT_EQ(a.buffers_in_use(), 1u);
    ASSERT_EQ(b.tx_burst({&ref, 1}), 1u);
    EXPECT_EQ(b.drain_tx(), 1u); // transmitting it does not make it b's either
    EXPECT_EQ(b.bad_frees(), 2u);
    a.free({&ref, 1});
    EXPECT_EQ(a.buffers_in_use(), 0u);
    EXPECT_EQ(a.bad_frees(), 0u);
    PacketRef bogus{nullptr, 0, 0, a.alloc({&ref, 1}) == 1 ? ref.data + 1 : nullptr};
    a.free({&bogus, 1}); // inside the pool but not a buffer's start
    EXPECT_EQ(a.bad_frees(), 1u);
    a.free({&ref, 1});
    EXPECT_EQ(a.buffers_in_use(), 0u);
}

TEST(MemPortPoolTest, RxQueueStaysInOrderAsItWraps)
{
    // One frame always queued while others pass through: the queue reuses its consumed
    // prefix (it never grows past the pool) and keeps arrival order.
    MemPort port(4);
    Frame f(std::begin(golden::k_arp_ours), std::end(golden::k_arp_ours));
    f.back() = 0;
    ASSERT_TRUE(port.inject(f));
    for (std::uint8_t i = 1; i <= 20; ++i) {
        f.back() = i;
        ASSERT_TRUE(port.inject(f));
        PacketRef ref{};
        ASSERT_EQ(port.rx_burst({&ref, 1}), 1u);
        EXPECT_EQ(ref.data[ref.length - 1], i - 1);
        port.free({&ref, 1});
        EXPECT_EQ(port.rx_pending(), 1u);
    }
    EXPECT_EQ(port.buffers_in_use(), 1u);
    EXPECT_EQ(port.bad_frees(), 0u);
}

} // namespace
} // namespace idpath::worker::test
