// Checksum offload, both directions, as pure code: classify() with a NIC's RX verdicts, and UDP
// replies written for a NIC to complete, which completed in software must equal the software
// reply byte for byte.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/packet/reply.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/packet/packet_test_util.hpp"

namespace idpath::packet {
namespace {

using test::be16;
using test::client_config;
using test::our_config;
using test::ref_checksum;
using test::slice;

constexpr ChecksumHint kIpBad{ChecksumStatus::Bad, ChecksumStatus::Unknown};
constexpr ChecksumHint kL4Bad{ChecksumStatus::Unknown, ChecksumStatus::Bad};
constexpr ChecksumHint kAllGood{ChecksumStatus::Good, ChecksumStatus::Good};

std::vector<std::uint8_t> copy(ByteSpan b)
{
    return {b.begin(), b.end()};
}

PacketView run(const std::vector<std::uint8_t>& f, ChecksumHint hint)
{
    return classify(ByteSpan{f.data(), f.size()}, our_config(), hint);
}

bool same_view(const PacketView& a, const PacketView& b)
{
    return a.verdict == b.verdict && a.reason == b.reason && a.family == b.family &&
           a.l3_offset == b.l3_offset && a.l4_offset == b.l4_offset &&
           a.payload_offset == b.payload_offset && a.payload.size() == b.payload.size() &&
           a.src_addr == b.src_addr && a.dst_addr == b.dst_addr && a.src_port == b.src_port &&
           a.dst_port == b.dst_port;
}

TEST(ChecksumHint, UnknownIsExactlyTheSoftwareClassification)
{
    for (const auto& frame : golden::kAll) {
        const PacketView plain = classify(frame.bytes, our_config());
        EXPECT_TRUE(same_view(plain, classify(frame.bytes, our_config(), ChecksumHint{})))
            << frame.name;
    }
}

TEST(ChecksumHint, GoodHintsChangeNothingForCorrectFrames)
{
    for (const auto& frame : golden::kAll) {
        const PacketView plain = classify(frame.bytes, our_config());
        EXPECT_TRUE(same_view(plain, classify(frame.bytes, our_config(), kAllGood)))
            << frame.name;
    }
}

TEST(ChecksumHint, BadIsMalformedWithoutParsing)
{
    for (const auto& frame : golden::kAll) {
        const PacketView ip = classify(frame.bytes, our_config(), kIpBad);
        EXPECT_EQ(ip.verdict, Verdict::Malformed) << frame.name;
        EXPECT_EQ(ip.reason, MalformedReason::BadIpv4Checksum) << frame.name;
        EXPECT_EQ(ip.family, L3Family::None) << frame.name; // nothing past the hint was read
        const PacketView l4 = classify(frame.bytes, our_config(), kL4Bad);
        EXPECT_EQ(l4.reason, MalformedReason::BadUdpChecksum) << frame.name;
        EXPECT_EQ(l4.family, L3Family::None) << frame.name;
    }
    // Even an empty frame: the NIC's word is all there is.
    EXPECT_EQ(classify(ByteSpan{}, our_config(), kIpBad).reason, MalformedReason::BadIpv4Checksum);
    PacketStats stats;
    stats.count(classify(golden::k_udp4, our_config(), kIpBad));
    stats.count(classify(golden::k_udp6, our_config(), kL4Bad));
    EXPECT_EQ(stats.of(Verdict::Malformed), 2u);
    EXPECT_EQ(stats.of(MalformedReason::BadIpv4Checksum), 1u);
    EXPECT_EQ(stats.of(MalformedReason::BadUdpChecksum), 1u);
}

TEST(ChecksumHint, GoodSkipsTheSoftwareCheck)
{
    // Frames whose checksums are wrong: a NIC that said Good is believed (that is the point),
    // so only the hint tells them apart.
    auto ip_wrong = copy(golden::k_udp4);
    ip_wrong[22] = 1; // TTL, header checksum not updated
    EXPECT_EQ(run(ip_wrong, {}).reason, MalformedReason::BadIpv4Checksum);
    EXPECT_EQ(run(ip_wrong, {ChecksumStatus::Good, ChecksumStatus::Unknown}).verdict,
              Verdict::HandleRequest);

    auto udp_wrong = copy(golden::k_udp4);
    udp_wrong[45] ^= 0x01; // a payload octet
    EXPECT_EQ(run(udp_wrong, {}).reason, MalformedReason::BadUdpChecksum);
    EXPECT_EQ(run(udp_wrong, {ChecksumStatus::Good, ChecksumStatus::Unknown}).reason,
              MalformedReason::BadUdpChecksum); // IP good says nothing of UDP
    EXPECT_EQ(run(udp_wrong, {ChecksumStatus::Unknown, ChecksumStatus::Good}).verdict,
              Verdict::HandleRequest);

    auto udp6_wrong = copy(golden::k_udp6);
    udp6_wrong[14 + 40 + 8] ^= 0x80;
    EXPECT_EQ(run(udp6_wrong, {}).reason, MalformedReason::BadUdpChecksum);
    EXPECT_EQ(run(udp6_wrong, kAllGood).verdict, Verdict::HandleRequest);
}

TEST(ChecksumHint, GoodIsNotBelievedBeyondWhatTheNicChecked)
{
    // RFC 8200 section 8.1: a zero UDP checksum over IPv6 is malformed whatever a NIC says.
    auto zero6 = copy(golden::k_udp6);
    zero6[14 + 40 + 6] = 0;
    zero6[14 + 40 + 7] = 0;
    EXPECT_EQ(run(zero6, kAllGood).reason, MalformedReason::ZeroUdpChecksumIpv6);

    // A UDP length short of the IP payload: the NIC summed the IP payload, we take `length`
    // octets, so its Good is not about our datagram and the software check runs. Built from
    // udp4 (16-octet payload): UDP length cut by 2 with the checksum left as it was.
    auto short_udp = copy(golden::k_udp4);
    const std::size_t udp = 14 + 20;
    store_be16(short_udp.data() + udp + 4,
               static_cast<std::uint16_t>(be16(short_udp.data() + udp + 4) - 2));
    EXPECT_EQ(run(short_udp, {}).reason, MalformedReason::BadUdpChecksum);
    EXPECT_EQ(run(short_udp, kAllGood).reason, MalformedReason::BadUdpChecksum);

    // NICs do not check ICMP: an L4 Good is not taken for it.
    auto icmp = copy(golden::k_icmp4_echo);
    icmp.back() ^= 0x01;
    EXPECT_EQ(run(icmp, kAllGood).reason, MalformedReason::BadIcmpChecksum);
    auto icmp6 = copy(golden::k_icmp6_echo);
    icmp6.back() ^= 0x01;
    EXPECT_EQ(run(icmp6, kAllGood).reason, MalformedReason::BadIcmpChecksum);
}

constexpr std::string_view kAnswer = "HANDLE-RESPONSE-LONGER-THAN-THE-REQUEST";

struct Reply {
    std::array<std::uint8_t, 2048> bytes{};
    std::size_t length = 0;
    PacketView view;
};

Reply build(ByteSpan request, ChecksumMode mode, std::string_view text = kAnswer)
{
    Reply r;
    std::memcpy(r.bytes.data(), request.data(), request.size());
    r.view = classify(ByteSpan{r.bytes.data(), request.size()}, our_config());
    std::memcpy(r.bytes.data() + r.view.payload_offset, text.data(), text.size());
    r.length = write_udp_reply(r.bytes, r.view, text.size(), 0x0101, mode);
    return r;
}

constexpr ByteSpan kUdpRequests[] = {
    golden::k_udp4,
    golden::k_udp4_vlan,
    golden::k_udp4_qinq,
    golden::k_udp4_options,
    golden::k_udp4_padded,
    golden::k_udp4_zero_checksum,
    golden::k_udp6,
    golden::k_udp6_ext,
};

TEST(ChecksumOffload, RequestDescribesTheReplyHeaders)
{
    const PacketView v4 = classify(golden::k_udp4_qinq, our_config());
    EXPECT_EQ(udp_reply_tx_checksums(v4), (TxChecksums{TxOffload::Ipv4Udp, 22, 20}));
    const PacketView v6 = classify(golden::k_udp6_ext, our_config());
    EXPECT_EQ(udp_reply_tx_checksums(v6), (TxChecksums{TxOffload::Ipv6Udp, 18, 40}));
    // Options and extension headers are stripped, so l3_len is the bare header's.
    const PacketView opt = classify(golden::k_udp4_options, our_config());
    EXPECT_EQ(udp_reply_tx_checksums(opt), (TxChecksums{TxOffload::Ipv4Udp, 14, 20}));
    EXPECT_EQ(udp_reply_tx_checksums(classify(golden::k_arp_ours, our_config())), TxChecksums{});
    EXPECT_EQ(udp_reply_tx_checksums(classify(golden::k_udp4_fragment, our_config())),
              TxChecksums{});
}

TEST(ChecksumOffload, OffloadReplyLeavesTheNicItsSeeds)
{
    for (const ByteSpan request : kUdpRequests) {
        const Reply r = build(request, ChecksumMode::Offload);
        ASSERT_NE(r.length, 0u);
        const TxChecksums tx = udp_reply_tx_checksums(r.view);
        const std::uint8_t* ip = r.bytes.data() + tx.l2_len;
        const std::uint8_t* udp = ip + tx.l3_len;
        const std::size_t udp_length = be16(udp + 4);
        ASSERT_EQ(udp_length, 8 + kAnswer.size());
        // The pseudo-header sum, folded and not complemented, computed here the naive way:
        // ~ref_checksum(pseudo-header) is exactly that (RFC 1071 ones-complement sum).
        std::vector<std::uint8_t> pseudo;
        if (tx.offload == TxOffload::Ipv4Udp) {
            EXPECT_EQ(be16(ip + 10), 0); // left for the NIC
            pseudo = slice(ip + 12, 8);
            pseudo.insert(pseudo.end(), {0, 17, static_cast<std::uint8_t>(udp_length >> 8),
                                         static_cast<std::uint8_t>(udp_length)});
        } else {
            pseudo = slice(ip + 8, 32);
            pseudo.insert(pseudo.end(), {0, 0, static_cast<std::uint8_t>(udp_length >> 8),
                                         static_cast<std::uint8_t>(udp_length), 0, 0, 0, 17});
        }
        EXPECT_EQ(be16(udp + 6), static_cast<std::uint16_t>(~ref_checksum(pseudo)));
    }
}

TEST(ChecksumOffload, CompletedInSoftwareEqualsTheSoftwareReply)
{
    for (const ByteSpan request : kUdpRequests) {
        // Every length parity and a few sums, so the 0 -> 0xFFFF case is not the only path.
        for (std::size_t cut = 0; cut < 8; ++cut) {
            const std::string_view text = kAnswer.substr(cut);
            const Reply soft = build(request, ChecksumMode::Software, text);
            Reply nic = build(request, ChecksumMode::Offload, text);
            ASSERT_EQ(soft.length, nic.length);
            ASSERT_NE(nic.length, 0u);
            EXPECT_NE(0, std::memcmp(soft.bytes.data(), nic.bytes.data(), nic.length));
            ASSERT_TRUE(complete_tx_checksums(MutableByteSpan{nic.bytes.data(), nic.length},
                                              udp_reply_tx_checksums(nic.view)));
            EXPECT_EQ(0, std::memcmp(soft.bytes.data(), nic.bytes.data(), nic.length))
                << "request of " << request.size() << " octets, answer cut by " << cut;
            const PacketView back = classify(ByteSpan{nic.bytes.data(), nic.length},
                                             client_config());
            EXPECT_EQ(back.verdict, Verdict::HandleRequest) << to_string(back.reason);
        }
    }
}

TEST(ChecksumOffload, FollowingDatagramsToo)
{
    for (const ByteSpan request : {ByteSpan{golden::k_udp4_qinq}, ByteSpan{golden::k_udp6_ext}}) {
        const Reply first_soft = build(request, ChecksumMode::Software);
        const Reply first_nic = build(request, ChecksumMode::Offload);
        const std::string_view second = "SECOND-DATAGRAM";
        const ByteSpan payload{reinterpret_cast<const std::uint8_t*>(second.data()),
                               second.size()};
        std::array<std::uint8_t, 2048> soft{};
        std::array<std::uint8_t, 2048> nic{};
        const std::size_t soft_len =
            write_udp_reply_next(soft, ByteSpan{first_soft.bytes.data(), first_soft.length},
                                 first_soft.view, payload, 7, ChecksumMode::Software);
        const std::size_t nic_len =
            write_udp_reply_next(nic, ByteSpan{first_nic.bytes.data(), first_nic.length},
                                 first_nic.view, payload, 7, ChecksumMode::Offload);
        ASSERT_EQ(soft_len, nic_len);
        ASSERT_TRUE(complete_tx_checksums(MutableByteSpan{nic.data(), nic_len},
                                          udp_reply_tx_checksums(first_nic.view)));
        EXPECT_EQ(0, std::memcmp(soft.data(), nic.data(), nic_len));
    }
}

TEST(ChecksumOffload, CompletionRefusesWhatDoesNotFit)
{
    Reply r = build(golden::k_udp4, ChecksumMode::Offload);
    const Reply before = r;
    const TxChecksums tx = udp_reply_tx_checksums(r.view);
    EXPECT_FALSE(complete_tx_checksums(r.bytes, TxChecksums{}));
    EXPECT_FALSE(complete_tx_checksums(MutableByteSpan{r.bytes.data(), 14 + 20 + 7}, tx));
    // A UDP length past the frame.
    EXPECT_FALSE(complete_tx_checksums(MutableByteSpan{r.bytes.data(), 14 + 20 + 8 + 3}, tx));
    EXPECT_EQ(0, std::memcmp(before.bytes.data(), r.bytes.data(), r.bytes.size()));
}

TEST(ChecksumOffload, FoldIsTheUncomplementedSum)
{
    EXPECT_EQ(checksum_fold(0), 0);
    EXPECT_EQ(checksum_fold(0x1ffff), 0x1);  // end-around carry
    EXPECT_EQ(checksum_fold(0xffff), 0xffff);
    EXPECT_EQ(checksum_fold(0x2fffd), 0xffff); // carry that carries again
    for (const std::uint64_t s : {0x1234ull, 0xdeadbeefull, 0x12345678abcdull})
        EXPECT_EQ(checksum_finish(s), static_cast<std::uint16_t>(~checksum_fold(s)));
}

} // namespace
} // namespace idpath::packet
