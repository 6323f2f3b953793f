// Reply writers: every field checked byte for byte, checksums checked with the naive reference
// and by re-parsing the reply from the client's side.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/reply.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/packet/packet_test_util.hpp"

namespace idpath::packet {
namespace {

using test::be16;
using test::client_config;
using test::our_config;
using test::ref_checksum;
using test::ref_l4_checksum;
using test::slice;

constexpr std::uint8_t kOurMac[6] = {0x02, 0, 0, 0, 0, 0x01};
constexpr std::uint8_t kClientMac[6] = {0x02, 0, 0, 0, 0, 0x02};
constexpr std::uint8_t kOur4[4] = {192, 0, 2, 1};
constexpr std::uint8_t kClient4[4] = {198, 51, 100, 7};
constexpr std::string_view kAnswer = "HANDLE-RESPONSE-LONGER-THAN-THE-REQUEST";

struct Buffer {
    std::array<std::uint8_t, 2048> bytes{};
    PacketView view;
    explicit Buffer(ByteSpan frame)
    {
        std::memcpy(bytes.data(), frame.data(), frame.size());
        view = classify(ByteSpan{bytes.data(), frame.size()}, our_config());
    }
    MutableByteSpan all() { return bytes; }
    const std::uint8_t* at(std::size_t o) const { return bytes.data() + o; }
};

/// Writes kAnswer as the reply payload and builds the reply.
std::size_t answer(Buffer& b, std::string_view text = kAnswer)
{
    std::memcpy(b.bytes.data() + b.view.payload_offset, text.data(), text.size());
    return write_udp_reply(b.all(), b.view, text.size(), 0x0101);
}

void expect_swapped_macs(const Buffer& b)
{
    EXPECT_EQ(0, std::memcmp(b.at(0), kClientMac, 6));
    EXPECT_EQ(0, std::memcmp(b.at(6), kOurMac, 6));
}

void check_udp4_reply(const Buffer& b, std::size_t len, std::size_t l3, std::string_view text)
{
    ASSERT_EQ(len, std::max<std::size_t>(l3 + 28 + text.size(), 60));
    expect_swapped_macs(b);
    const std::uint8_t* ip = b.at(l3);
    EXPECT_EQ(ip[0], 0x45);
    EXPECT_EQ(be16(ip + 2), 28 + text.size());
    EXPECT_EQ(be16(ip + 4), 0x0101);
    EXPECT_EQ(be16(ip + 6), 0x4000);
    EXPECT_EQ(ip[8], 64);
    EXPECT_EQ(ip[9], 17);
    EXPECT_EQ(0, std::memcmp(ip + 12, kOur4, 4));
    EXPECT_EQ(0, std::memcmp(ip + 16, kClient4, 4));
    EXPECT_EQ(ref_checksum(slice(ip, 20)), 0);
    const std::uint8_t* udp = ip + 20;
    EXPECT_EQ(be16(udp), 2641);
    EXPECT_EQ(be16(udp + 2), 40000);
    EXPECT_EQ(be16(udp + 4), 8 + text.size());
    EXPECT_NE(be16(udp + 6), 0);
    EXPECT_EQ(ref_l4_checksum(ip, false, 17, udp, 8 + text.size()), 0);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(udp + 8), text.size()), text);
    // Re-parsed from the client's side it is a valid, checksummed datagram to its port.
    const PacketView r = classify(ByteSpan{b.bytes.data(), len}, client_config());
    EXPECT_EQ(r.verdict, Verdict::HandleRequest) << to_string(r.reason);
    EXPECT_EQ(r.payload.size(), text.size());
}

TEST(PacketReply, Udp4)
{
    Buffer b(golden::k_udp4);
    check_udp4_reply(b, answer(b), 14, kAnswer);
}

TEST(PacketReply, Udp4ShortReplyIsPadded)
{
    Buffer b(golden::k_udp4);
    b.bytes[59] = 0xee; // stale request octet inside the padding
    const std::size_t len = answer(b, "ok");
    check_udp4_reply(b, len, 14, "ok");
    EXPECT_EQ(b.bytes[59], 0);
}

TEST(PacketReply, Udp4OptionsAreStrippedAndVlanKept)
{
    Buffer b(golden::k_udp4_options);
    check_udp4_reply(b, answer(b), 14, kAnswer);
    Buffer q(golden::k_udp4_qinq);
    const std::size_t len = answer(q);
    check_udp4_reply(q, len, 22, kAnswer);
    EXPECT_EQ(0, std::memcmp(q.at(12), golden::k_udp4_qinq + 12, 10)); // both tags unchanged
}

TEST(PacketReply, Udp4ZeroChecksumRequestGetsAChecksum)
{
    Buffer b(golden::k_udp4_zero_checksum);
    check_udp4_reply(b, answer(b), 14, kAnswer);
}

void check_udp6_reply(const Buffer& b, std::size_t len, std::size_t l3)
{
    ASSERT_EQ(len, l3 + 48 + kAnswer.size());
    expect_swapped_macs(b);
    const std::uint8_t* ip = b.at(l3);
    EXPECT_EQ(ip[0], 0x60);
    EXPECT_EQ(be16(ip + 4), 8 + kAnswer.size());
    EXPECT_EQ(ip[6], 17);
    EXPECT_EQ(ip[7], 64);
    EXPECT_EQ(0, std::memcmp(ip + 8, our_config().ipv6[0].data(), 16));
    EXPECT_EQ(0, std::memcmp(ip + 24, client_config().ipv6[0].data(), 16));
    const std::uint8_t* udp = ip + 40;
    EXPECT_EQ(be16(udp), 2641);
    EXPECT_EQ(be16(udp + 2), 40000);
    EXPECT_EQ(be16(udp + 4), 8 + kAnswer.size());
    EXPECT_EQ(ref_l4_checksum(ip, true, 17, udp, 8 + kAnswer.size()), 0);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(udp + 8), kAnswer.size()), kAnswer);
    const PacketView r = classify(ByteSpan{b.bytes.data(), len}, client_config());
    EXPECT_EQ(r.verdict, Verdict::HandleRequest) << to_string(r.reason);
}

TEST(PacketReply, Udp6AndExtensionHeadersStripped)
{
    Buffer b(golden::k_udp6);
    check_udp6_reply(b, answer(b), 14);
    Buffer e(golden::k_udp6_ext);
    const std::size_t len = answer(e);
    check_udp6_reply(e, len, 18);
    EXPECT_EQ(0, std::memcmp(e.at(12), golden::k_udp6_ext + 12, 4)); // VLAN tag unchanged
}

TEST(PacketReply, RefusesWhatDoesNotFit)
{
    Buffer b(golden::k_udp4);
    EXPECT_EQ(write_udp_reply(b.all(), b.view, 2048 - 42 + 1), 0u);
    EXPECT_EQ(write_udp_reply(b.all(), b.view, 2048 - 42), 2048u);
    Buffer n(golden::k_udp4_other_port);
    EXPECT_EQ(write_udp_reply(n.all(), n.view, 4), 0u);
    Buffer a(golden::k_arp_ours);
    EXPECT_EQ(write_udp_reply(a.all(), a.view, 4), 0u);
    EXPECT_EQ(write_neighbor_advertisement(a.all(), a.view, our_config()), 0u);
    EXPECT_EQ(write_icmp_echo_reply(a.all(), a.view), 0u);
    Buffer ns(golden::k_ns_ours);
    EXPECT_EQ(write_neighbor_advertisement(ns.all().first(14 + 40 + 31), ns.view, our_config()),
              0u);
}

TEST(PacketReply, FollowingDatagramsCopyTheFirstReplysHeaders)
{
    for (const ByteSpan request : {ByteSpan{golden::k_udp4_qinq}, ByteSpan{golden::k_udp6_ext}}) {
        Buffer b(request);
        const std::size_t first_len = answer(b);
        ASSERT_NE(first_len, 0u);
        std::array<std::uint8_t, 2048> out{};
        const std::string_view second = "SECOND-DATAGRAM";
        const std::size_t len = write_udp_reply_next(
            out, ByteSpan{b.bytes.data(), first_len}, b.view,
            ByteSpan{reinterpret_cast<const std::uint8_t*>(second.data()), second.size()}, 0x0101);
        const std::size_t headers = udp_reply_payload_offset(b.view);
        ASSERT_EQ(len, std::max<std::size_t>(headers + second.size(), 60));
        EXPECT_EQ(0, std::memcmp(out.data(), b.bytes.data(), b.view.l3_offset)); // L2 + tags
        EXPECT_EQ(0, std::memcmp(out.data() + headers, second.data(), second.size()));
        const PacketView r = classify(ByteSpan{out.data(), len}, client_config());
        ASSERT_EQ(r.verdict, Verdict::HandleRequest) << to_string(r.reason);
        EXPECT_EQ(r.src_port, 2641);
        EXPECT_EQ(r.payload.size(), second.size());
        const std::uint8_t* ip = out.data() + b.view.l3_offset;
        const bool v6 = b.view.family == L3Family::Ipv6;
        EXPECT_EQ(ref_l4_checksum(ip, v6, 17, ip + (v6 ? 40 : 20), 8 + second.size()), 0);
    }
}

TEST(PacketReply, Arp)
{
    Buffer b(golden::k_arp_ours);
    ASSERT_EQ(b.view.verdict, Verdict::ArpRequest);
    const std::size_t len = write_arp_reply(b.all(), b.view, our_config());
    ASSERT_EQ(len, 60u);
    expect_swapped_macs(b);
    EXPECT_EQ(be16(b.at(12)), 0x0806);
    const std::uint8_t* a = b.at(14);
    const std::uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 2};
    EXPECT_EQ(0, std::memcmp(a, head, 8));
    EXPECT_EQ(0, std::memcmp(a + 8, kOurMac, 6));
    EXPECT_EQ(0, std::memcmp(a + 14, kOur4, 4));
    EXPECT_EQ(0, std::memcmp(a + 18, kClientMac, 6));
    EXPECT_EQ(0, std::memcmp(a + 24, kClient4, 4));
    EXPECT_EQ(classify(ByteSpan{b.bytes.data(), len}, client_config()).verdict, Verdict::Other);
}

TEST(PacketReply, NeighborAdvertisement)
{
    Buffer b(golden::k_ns_ours);
    const std::size_t len = write_neighbor_advertisement(b.all(), b.view, our_config());
    ASSERT_EQ(len, 14u + 40u + 32u);
    expect_swapped_macs(b);
    const std::uint8_t* ip = b.at(14);
    EXPECT_EQ(ip[0], 0x60);
    EXPECT_EQ(be16(ip + 4), 32);
    EXPECT_EQ(ip[6], 58);
    EXPECT_EQ(ip[7], 255);
    EXPECT_EQ(0, std::memcmp(ip + 8, our_config().ipv6[0].data(), 16));
    EXPECT_EQ(0, std::memcmp(ip + 24, client_config().ipv6[0].data(), 16));
    const std::uint8_t* c = ip + 40;
    EXPECT_EQ(c[0], 136);
    EXPECT_EQ(c[1], 0);
    const std::uint8_t flags[4] = {0x60, 0, 0, 0};
    EXPECT_EQ(0, std::memcmp(c + 4, flags, 4));
    EXPECT_EQ(0, std::memcmp(c + 8, our_config().ipv6[0].data(), 16));
    EXPECT_EQ(c[24], 2);
    EXPECT_EQ(c[25], 1);
    EXPECT_EQ(0, std::memcmp(c + 26, kOurMac, 6));
    EXPECT_EQ(ref_l4_checksum(ip, true, 58, c, 32), 0);
}

TEST(PacketReply, IcmpEcho)
{
    Buffer b(golden::k_icmp4_echo);
    const std::size_t n = sizeof golden::k_icmp4_echo;
    const std::size_t len = write_icmp_echo_reply(b.all(), b.view);
    ASSERT_EQ(len, std::max<std::size_t>(n, 60));
    expect_swapped_macs(b);
    const std::uint8_t* ip = b.at(14);
    EXPECT_EQ(ip[8], 64);
    EXPECT_EQ(0, std::memcmp(ip + 12, kOur4, 4));
    EXPECT_EQ(0, std::memcmp(ip + 16, kClient4, 4));
    EXPECT_EQ(ref_checksum(slice(ip, 20)), 0);
    EXPECT_EQ(ip[20], 0);
    EXPECT_EQ(ref_checksum(slice(ip + 20, n - 34)), 0);
    EXPECT_EQ(0, std::memcmp(ip + 24, golden::k_icmp4_echo + 38, n - 38)); // id, seq, data
}

TEST(PacketReply, Icmpv6Echo)
{
    Buffer b(golden::k_icmp6_echo);
    const std::size_t n = sizeof golden::k_icmp6_echo;
    const std::size_t len = write_icmpv6_echo_reply(b.all(), b.view);
    ASSERT_EQ(len, n);
    expect_swapped_macs(b);
    const std::uint8_t* ip = b.at(14);
    EXPECT_EQ(ip[7], 64);
    EXPECT_EQ(0, std::memcmp(ip + 8, our_config().ipv6[0].data(), 16));
    EXPECT_EQ(0, std::memcmp(ip + 24, client_config().ipv6[0].data(), 16));
    EXPECT_EQ(ip[40], 129);
    EXPECT_EQ(ref_l4_checksum(ip, true, 58, ip + 40, n - 54), 0);
    EXPECT_EQ(0, std::memcmp(ip + 44, golden::k_icmp6_echo + 58, n - 58));
}

TEST(PacketChecksum, Rfc1071ExampleAndIncrementalUpdate)
{
    // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    const std::uint8_t data[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(internet_checksum(data), static_cast<std::uint16_t>(~0xddf2));
    EXPECT_EQ(internet_checksum(ByteSpan{data, 7}), ref_checksum(slice(data, 7)));
    // RFC 1624: updating one word agrees with recomputing, across many values.
    std::vector<std::uint8_t> buf(golden::k_udp4 + 14, golden::k_udp4 + 34);
    for (std::uint32_t w = 0; w <= 0xffff; w += 257) {
        std::vector<std::uint8_t> b = buf;
        const std::uint16_t old_word = be16(b.data() + 8);
        b[8] = static_cast<std::uint8_t>(w >> 8);
        b[9] = static_cast<std::uint8_t>(w);
        const std::uint16_t upd = checksum_update16(be16(b.data() + 10), old_word,
                                                    static_cast<std::uint16_t>(w));
        b[10] = static_cast<std::uint8_t>(upd >> 8);
        b[11] = static_cast<std::uint8_t>(upd);
        EXPECT_EQ(ref_checksum(b), 0) << w;
    }
}

} // namespace
} // namespace idpath::packet
