// Edge cases of classification policy, and a deterministic bit-flip sweep over the golden
// frames: whatever classify() accepts, the matching reply writer answers, and the reply
// re-parses cleanly.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/packet/reply.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/packet/packet_test_util.hpp"

namespace idpath::packet {
namespace {

using test::our_config;
using test::ref_checksum;
using test::slice;

std::vector<std::uint8_t> copy(ByteSpan b)
{
    return {b.begin(), b.end()};
}

PacketView run(const std::vector<std::uint8_t>& f)
{
    return classify(ByteSpan{f.data(), f.size()}, our_config());
}

/// Recomputes the IPv4 header checksum of an option-less header at offset 14.
void fix_ipv4(std::vector<std::uint8_t>& f)
{
    f[24] = 0;
    f[25] = 0;
    const std::uint16_t c = ref_checksum(slice(f.data() + 14, 20));
    f[24] = static_cast<std::uint8_t>(c >> 8);
    f[25] = static_cast<std::uint8_t>(c);
}

TEST(PacketPolicy, SourcesThatCannotBeAnswered)
{
    for (const std::uint8_t first : {0, 127, 224, 255}) {
        auto f = copy(golden::k_udp4);
        f[26] = first;
        fix_ipv4(f);
        EXPECT_EQ(run(f).reason, MalformedReason::BadSourceAddress) << int{first};
    }
    auto f = copy(golden::k_udp4);
    f[34] = 0;
    f[35] = 0; // UDP source port 0
    EXPECT_EQ(run(f).reason, MalformedReason::BadSourceAddress);
    f = copy(golden::k_udp6);
    f[22] = 0xff; // multicast source
    EXPECT_EQ(run(f).reason, MalformedReason::BadSourceAddress);
}

TEST(PacketPolicy, ArpThatIsNotARequestForUs)
{
    auto f = copy(golden::k_arp_ours);
    f[21] = 2; // a reply
    EXPECT_EQ(run(f).verdict, Verdict::Other);
    f = copy(golden::k_arp_ours);
    std::memcpy(f.data() + 28, f.data() + 38, 4); // gratuitous: sender == target
    EXPECT_EQ(run(f).verdict, Verdict::Other);
    f = copy(golden::k_arp_ours);
    f[14 + 5] = 16; // not IPv4-sized protocol addresses
    EXPECT_EQ(run(f).verdict, Verdict::Other);
}

TEST(PacketPolicy, NeighborSolicitationVariants)
{
    // To another solicited-node group (ff02::1:ff00:2), checksum fixed by hand.
    auto f = copy(golden::k_ns_ours);
    f[14 + 24 + 15] = 0x02;
    f[14 + 40 + 2] = 0;
    f[14 + 40 + 3] = 0;
    const std::uint16_t c = test::ref_l4_checksum(f.data() + 14, true, 58, f.data() + 54, 32);
    f[14 + 40 + 2] = static_cast<std::uint8_t>(c >> 8);
    f[14 + 40 + 3] = static_cast<std::uint8_t>(c);
    EXPECT_EQ(run(f).verdict, Verdict::NotForUs);
    // Duplicate address detection: unspecified source, to the group, no source LLA option.
    f = copy(golden::k_ns_ours);
    std::memset(f.data() + 14 + 8, 0, 16);
    f.resize(f.size() - 8);
    f[14 + 5] = 24;
    f[14 + 40 + 2] = 0;
    f[14 + 40 + 3] = 0;
    const std::uint16_t d = test::ref_l4_checksum(f.data() + 14, true, 58, f.data() + 54, 24);
    f[14 + 40 + 2] = static_cast<std::uint8_t>(d >> 8);
    f[14 + 40 + 3] = static_cast<std::uint8_t>(d);
    EXPECT_EQ(run(f).verdict, Verdict::Other) << to_string(run(f).reason);
    // Option of length zero (RFC 4861 section 7.1.1).
    f = copy(golden::k_ns_ours);
    f[14 + 40 + 25] = 0;
    EXPECT_EQ(run(f).reason, MalformedReason::BadNeighborSolicitation);
    // Multicast target.
    f = copy(golden::k_ns_ours);
    f[14 + 40 + 8] = 0xff;
    EXPECT_EQ(run(f).reason, MalformedReason::BadNeighborSolicitation);
}

TEST(PacketPolicy, IcmpEchoWithOptionsGoesToTheKernel)
{
    // Echo with a 4-octet option, header checksum fixed by hand.
    std::vector<std::uint8_t> f(golden::k_icmp4_echo, golden::k_icmp4_echo + 34);
    f.insert(f.end(), {0x94, 4, 0, 0});
    f.insert(f.end(), golden::k_icmp4_echo + 34,
             golden::k_icmp4_echo + sizeof golden::k_icmp4_echo);
    f[14] = 0x46;
    const std::size_t total = f.size() - 14;
    f[16] = static_cast<std::uint8_t>(total >> 8);
    f[17] = static_cast<std::uint8_t>(total);
    f[24] = 0;
    f[25] = 0;
    const std::uint16_t c = ref_checksum(slice(f.data() + 14, 24));
    f[24] = static_cast<std::uint8_t>(c >> 8);
    f[25] = static_cast<std::uint8_t>(c);
    EXPECT_EQ(run(f).verdict, Verdict::Other);
}

/// Builds the reply a verdict calls for; 0 when there is none.
std::size_t reply(std::array<std::uint8_t, 2048>& buf, const PacketView& v)
{
    switch (v.verdict) {
    case Verdict::HandleRequest:
        return write_udp_reply(buf, v, v.payload.size() + 5);
    case Verdict::ArpRequest:
        return write_arp_reply(buf, v, our_config());
    case Verdict::NeighborSolicitation:
        return write_neighbor_advertisement(buf, v, our_config());
    case Verdict::IcmpEchoRequest:
        return write_icmp_echo_reply(buf, v);
    case Verdict::Icmpv6EchoRequest:
        return write_icmpv6_echo_reply(buf, v);
    default:
        return 0;
    }
}

bool answerable(Verdict v)
{
    return v == Verdict::HandleRequest || v == Verdict::ArpRequest ||
           v == Verdict::NeighborSolicitation || v == Verdict::IcmpEchoRequest ||
           v == Verdict::Icmpv6EchoRequest;
}

TEST(PacketRobustness, EverySingleBitFlipOfEveryGoldenFrame)
{
    std::size_t answered = 0;
    for (const auto& g : golden::kAll) {
        for (std::size_t bit = 0; bit < g.bytes.size() * 8; ++bit) {
            std::vector<std::uint8_t> f = copy(g.bytes);
            f[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            const PacketView v = run(f);
            ASSERT_EQ(v.verdict == Verdict::Malformed, v.reason != MalformedReason::None);
            if (!answerable(v.verdict))
                continue;
            std::array<std::uint8_t, 2048> buf{};
            std::memcpy(buf.data(), f.data(), f.size());
            const PacketView in_buf = classify(ByteSpan{buf.data(), f.size()}, our_config());
            const std::size_t len = reply(buf, in_buf);
            ASSERT_NE(len, 0u) << g.name << " bit " << bit;
            const PacketView r = classify(ByteSpan{buf.data(), len}, PacketConfig{});
            EXPECT_NE(r.verdict, Verdict::Malformed)
                << g.name << " bit " << bit << ": " << to_string(r.reason);
            ++answered;
        }
    }
    EXPECT_GT(answered, 0u);
}

} // namespace
} // namespace idpath::packet
