// classify(): golden frames, every truncation of them, and each malformed reason.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/packet/packet.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/packet/packet_test_util.hpp"

namespace idpath::packet {
namespace {

using test::our_config;

struct Expect {
    const char* name;
    Verdict verdict;
};

constexpr Expect kExpected[] = {
    {"udp4", Verdict::HandleRequest},
    {"udp4_vlan", Verdict::HandleRequest},
    {"udp4_qinq", Verdict::HandleRequest},
    {"udp4_options", Verdict::HandleRequest},
    {"udp4_zero_checksum", Verdict::HandleRequest},
    {"udp4_padded", Verdict::HandleRequest},
    {"udp4_other_port", Verdict::NotForUs},
    {"udp4_fragment", Verdict::Fragment},
    {"udp6", Verdict::HandleRequest},
    {"udp6_ext", Verdict::HandleRequest},
    {"udp6_fragment", Verdict::Fragment},
    {"arp_ours", Verdict::ArpRequest},
    {"arp_other", Verdict::NotForUs},
    {"ns_ours", Verdict::NeighborSolicitation},
    {"ns_other", Verdict::NotForUs},
    {"icmp4_echo", Verdict::IcmpEchoRequest},
    {"icmp6_echo", Verdict::Icmpv6EchoRequest},
};

std::vector<std::uint8_t> copy(ByteSpan b)
{
    return {b.begin(), b.end()};
}

PacketView run(const std::vector<std::uint8_t>& f)
{
    return classify(ByteSpan{f.data(), f.size()}, our_config());
}

TEST(PacketClassify, GoldenFramesClassifyAsExpected)
{
    ASSERT_EQ(std::size(kExpected), std::size(golden::kAll));
    for (std::size_t i = 0; i < std::size(kExpected); ++i) {
        ASSERT_STREQ(kExpected[i].name, golden::kAll[i].name);
        const PacketView v = classify(golden::kAll[i].bytes, our_config());
        EXPECT_EQ(v.verdict, kExpected[i].verdict)
            << kExpected[i].name << ": " << to_string(v.verdict) << " " << to_string(v.reason);
        EXPECT_EQ(v.reason, MalformedReason::None) << kExpected[i].name;
    }
}

TEST(PacketClassify, Udp4Fields)
{
    const PacketView v = classify(golden::k_udp4, our_config());
    ASSERT_EQ(v.verdict, Verdict::HandleRequest);
    EXPECT_EQ(v.family, L3Family::Ipv4);
    EXPECT_EQ(v.vlan_count, 0);
    EXPECT_EQ(v.ethertype, kEtherTypeIpv4);
    EXPECT_EQ(v.l3_offset, 14u);
    EXPECT_EQ(v.l4_offset, 34u);
    EXPECT_EQ(v.payload_offset, 42u);
    EXPECT_EQ(v.l3_length, 44u);
    EXPECT_EQ(v.l4_protocol, kProtoUdp);
    EXPECT_EQ(v.src_port, 40000);
    EXPECT_EQ(v.dst_port, 2641);
    EXPECT_EQ(v.src_addr, (IpAddress{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7}));
    EXPECT_EQ(v.dst_addr, (IpAddress{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.payload.data()), v.payload.size()),
              "HDL-REQUEST-0123");
    EXPECT_EQ(v.payload.data(), golden::k_udp4 + 42);
}

TEST(PacketClassify, VlanTagsAndOptionsAndExtensionHeaders)
{
    PacketView v = classify(golden::k_udp4_vlan, our_config());
    EXPECT_EQ(v.vlan_count, 1);
    EXPECT_EQ(v.vlan_tpid[0], kEtherTypeVlan);
    EXPECT_EQ(v.vlan_tci[0], 0x64);
    EXPECT_EQ(v.l3_offset, 18u);
    v = classify(golden::k_udp4_qinq, our_config());
    EXPECT_EQ(v.vlan_count, 2);
    EXPECT_EQ(v.vlan_tpid[0], kEtherTypeQinQ);
    EXPECT_EQ(v.vlan_tci[0], 0x0a);
    EXPECT_EQ(v.vlan_tpid[1], kEtherTypeVlan);
    EXPECT_EQ(v.vlan_tci[1], 0x14);
    EXPECT_EQ(v.l3_offset, 22u);
    EXPECT_EQ(v.payload.size(), 16u);
    v = classify(golden::k_udp4_options, our_config());
    EXPECT_EQ(v.l4_offset, 14u + 24u);
    EXPECT_EQ(v.payload_offset, 14u + 24u + 8u);
    v = classify(golden::k_udp4_padded, our_config());
    EXPECT_EQ(v.payload.size(), 2u);
    v = classify(golden::k_udp6_ext, our_config());
    EXPECT_EQ(v.family, L3Family::Ipv6);
    EXPECT_EQ(v.l3_offset, 18u);
    EXPECT_EQ(v.l4_offset, 18u + 40u + 16u);
    EXPECT_EQ(v.l4_protocol, kProtoUdp);
    EXPECT_EQ(v.payload.size(), 16u);
}

TEST(PacketClassify, ArpAndNsTargets)
{
    PacketView v = classify(golden::k_arp_ours, our_config());
    EXPECT_EQ(v.target, map_ipv4(our_config().ipv4[0].data()));
    v = classify(golden::k_ns_ours, our_config());
    EXPECT_EQ(v.target, our_config().ipv6[0]);
    // Nothing configured: nothing answered.
    PacketConfig none;
    EXPECT_EQ(classify(golden::k_arp_ours, none).verdict, Verdict::NotForUs);
    EXPECT_EQ(classify(golden::k_ns_ours, none).verdict, Verdict::NotForUs);
    EXPECT_EQ(classify(golden::k_udp4, none).verdict, Verdict::NotForUs);
}

TEST(PacketClassify, EveryTruncationIsMalformedOrStillCorrect)
{
    for (std::size_t i = 0; i < std::size(golden::kAll); ++i) {
        const ByteSpan full = golden::kAll[i].bytes;
        for (std::size_t n = 0; n < full.size(); ++n) {
            // An exact-size heap copy, so a sanitizer build catches any read past the end.
            const std::vector<std::uint8_t> f(full.begin(), full.begin() + static_cast<long>(n));
            const PacketView v = run(f);
            EXPECT_TRUE(v.verdict == Verdict::Malformed || v.verdict == kExpected[i].verdict)
                << golden::kAll[i].name << " cut to " << n << ": " << to_string(v.verdict);
            if (v.verdict == Verdict::Malformed) {
                EXPECT_NE(v.reason, MalformedReason::None);
            }
        }
    }
}

TEST(PacketClassify, BadChecksumsAreDetected)
{
    auto f = copy(golden::k_udp4);
    f[45] ^= 0x01; // a payload octet
    EXPECT_EQ(run(f).reason, MalformedReason::BadUdpChecksum);
    f = copy(golden::k_udp4);
    f[22] = 1; // TTL, header checksum not updated
    EXPECT_EQ(run(f).reason, MalformedReason::BadIpv4Checksum);
    f = copy(golden::k_udp6);
    f[14 + 40 + 8] ^= 0x80;
    EXPECT_EQ(run(f).reason, MalformedReason::BadUdpChecksum);
    f = copy(golden::k_udp6);
    f[14 + 40 + 6] = 0;
    f[14 + 40 + 7] = 0;
    EXPECT_EQ(run(f).reason, MalformedReason::ZeroUdpChecksumIpv6);
    f = copy(golden::k_icmp4_echo);
    f.back() ^= 0x01;
    EXPECT_EQ(run(f).reason, MalformedReason::BadIcmpChecksum);
    f = copy(golden::k_icmp6_echo);
    f.back() ^= 0x01;
    EXPECT_EQ(run(f).reason, MalformedReason::BadIcmpChecksum);
    f = copy(golden::k_ns_ours);
    f.back() ^= 0x01;
    EXPECT_EQ(run(f).reason, MalformedReason::BadIcmpChecksum);

    PacketStats stats;
    stats.count(run(f));
    stats.count(classify(golden::k_udp4, our_config()));
    EXPECT_EQ(stats.of(Verdict::Malformed), 1u);
    EXPECT_EQ(stats.of(Verdict::HandleRequest), 1u);
    EXPECT_EQ(stats.of(MalformedReason::BadIcmpChecksum), 1u);
}

TEST(PacketClassify, MalformedHeaders)
{
    auto f = copy(golden::k_udp4);
    f[14] = 0x55;
    EXPECT_EQ(run(f).reason, MalformedReason::BadIpVersion);
    f = copy(golden::k_udp4);
    f[14] = 0x44;
    EXPECT_EQ(run(f).reason, MalformedReason::BadIhl);
    f = copy(golden::k_udp4);
    f[14] = 0x4f; // 60 octets of header: longer than this frame's IP part
    EXPECT_EQ(run(f).reason, MalformedReason::BadIhl);
    f = copy(golden::k_udp4);
    f[17] = 0xff; // total length past the frame
    EXPECT_EQ(run(f).reason, MalformedReason::BadIpTotalLength);
    f = copy(golden::k_udp6);
    f[19] = 0xff;
    EXPECT_EQ(run(f).reason, MalformedReason::BadIpv6PayloadLength);
    f = copy(golden::k_udp6);
    f[14 + 40 + 5] = 0xff; // UDP length past the IP payload
    EXPECT_EQ(run(f).reason, MalformedReason::BadUdpLength);
    f = copy(golden::k_udp6);
    f[14 + 40 + 4] = 0;
    f[14 + 40 + 5] = 4; // shorter than its own header
    EXPECT_EQ(run(f).reason, MalformedReason::BadUdpLength);
    f = copy(golden::k_udp4);
    f[6] = 0x03; // group source MAC
    EXPECT_EQ(run(f).reason, MalformedReason::BadSourceAddress);
    f = copy(golden::k_udp4);
    f[0] = 0xff; // unicast IP in a broadcast frame (RFC 1122 section 3.3.6)
    EXPECT_EQ(run(f).verdict, Verdict::NotForUs);
    f = copy(golden::k_ns_ours);
    f[14 + 7] = 254; // NS from off-link
    EXPECT_EQ(run(f).reason, MalformedReason::BadNeighborSolicitation);
}

/// An IPv6 frame whose payload is `ext` extension headers of type `first`, then destination
/// options, ending in No Next Header.
std::vector<std::uint8_t> ipv6_chain(std::uint8_t first, std::size_t ext)
{
    std::vector<std::uint8_t> f(golden::k_udp6, golden::k_udp6 + 14 + 40);
    const std::size_t payload = ext * 8;
    f[18] = static_cast<std::uint8_t>(payload >> 8);
    f[19] = static_cast<std::uint8_t>(payload);
    f[20] = first;
    for (std::size_t i = 0; i < ext; ++i)
        f.insert(f.end(), {static_cast<std::uint8_t>(i + 1 == ext ? 59 : 60), 0, 1, 4, 0, 0, 0, 0});
    return f;
}

TEST(PacketClassify, ExtensionHeaderWalkIsBounded)
{
    EXPECT_EQ(run(ipv6_chain(60, 8)).verdict, Verdict::Other); // ends in No Next Header
    EXPECT_EQ(run(ipv6_chain(60, 9)).reason, MalformedReason::TooManyExtensionHeaders);
    EXPECT_EQ(run(ipv6_chain(0, 3)).verdict, Verdict::Other);
    auto f = ipv6_chain(60, 3);
    f[14 + 40] = 0; // hop-by-hop after destination options
    EXPECT_EQ(run(f).reason, MalformedReason::MisplacedHopByHop);
    f = ipv6_chain(60, 2);
    f[14 + 40 + 1] = 5; // header longer than the packet
    EXPECT_EQ(run(f).reason, MalformedReason::TruncatedExtensionHeader);
    f = ipv6_chain(43, 1); // routing header with segments left
    f[14 + 40 + 3] = 1;
    EXPECT_EQ(run(f).verdict, Verdict::Other);
}

TEST(PacketClassify, ThirdVlanTagAndUnknownEtherTypeAreOther)
{
    std::vector<std::uint8_t> f(golden::k_udp4_qinq, golden::k_udp4_qinq + 12);
    f.insert(f.end(), {0x81, 0x00, 0, 1, 0x81, 0x00, 0, 2, 0x81, 0x00, 0, 3, 0x08, 0x00});
    EXPECT_EQ(run(f).verdict, Verdict::Other);
    f = copy(golden::k_udp4);
    f[12] = 0x88;
    f[13] = 0xcc; // LLDP
    EXPECT_EQ(run(f).verdict, Verdict::Other);
}

TEST(PacketClassify, NamesAreDistinct)
{
    EXPECT_STREQ(to_string(Verdict::HandleRequest), "handle_request");
    EXPECT_STREQ(to_string(MalformedReason::ZeroUdpChecksumIpv6), "zero_udp_checksum_ipv6");
    EXPECT_STREQ(to_string(L3Family::Ipv6), "ipv6");
    for (std::size_t i = 0; i < static_cast<std::size_t>(MalformedReason::Count_); ++i)
        EXPECT_STRNE(to_string(static_cast<MalformedReason>(i)), "unknown");
    for (std::size_t i = 0; i < static_cast<std::size_t>(Verdict::Count_); ++i)
        EXPECT_STRNE(to_string(static_cast<Verdict>(i)), "unknown");
}

// A promiscuous or software port (net_pcap, AF_PACKET) delivers frames a NIC would filter.
TEST(PacketClassify, UnicastToAnotherMacIsNotForUs)
{
    for (ByteSpan golden_frame : {ByteSpan{golden::k_udp4}, ByteSpan{golden::k_udp6},
                                  ByteSpan{golden::k_icmp4_echo}, ByteSpan{golden::k_icmp6_echo}}) {
        auto f = copy(golden_frame);
        ASSERT_NE(run(f).verdict, Verdict::NotForUs);
        f[5] ^= 0x10; // another station, still unicast
        EXPECT_EQ(run(f).verdict, Verdict::NotForUs);
        // A config that knows no MAC accepts any unicast destination.
        PacketConfig anymac = our_config();
        anymac.mac = {};
        EXPECT_NE(classify(ByteSpan{f.data(), f.size()}, anymac).verdict, Verdict::NotForUs);
    }
}

} // namespace
} // namespace idpath::packet
