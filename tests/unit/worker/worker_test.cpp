// Answers through Worker<MemPort>: Handle requests over IPv4, IPv6 and VLAN, multi-datagram
// answers, and the local services (ARP, NS, ICMP and ICMPv6 echo).

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "dataplane/packet/reply.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/response.hpp"
#include "tests/unit/packet/golden_frames.hpp"
#include "tests/unit/worker/worker_rig.hpp"

namespace idpath::worker::test {
namespace {

namespace golden = packet::golden;

/// Decodes a single-datagram Handle reply and checks it answers 88.100.1/abc.
void expect_abc_answer(const std::vector<std::uint8_t>& payload)
{
    const auto env = wire::decode_envelope(payload);
    ASSERT_TRUE(env.ok());
    EXPECT_EQ(env->request_id, 0x12345678u);
    EXPECT_EQ(env->message_length, payload.size() - wire::kEnvelopeSize);
    const auto m = wire::decode_message(ByteSpan(payload).subspan(wire::kEnvelopeSize));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.response_code, 1u);
    const auto body = wire::decode_response_body(m->header, m->body);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->resolution.handle, "88.100.1/abc");
    ASSERT_EQ(body->resolution.values.size(), 4u);
    EXPECT_EQ(body->resolution.values[0].type, "URL");
}

/// Reference reply: the packet layer's writer run on a copy of the request.
template <typename Write>
std::vector<std::uint8_t> reference(std::span<const std::uint8_t> request, Write write)
{
    std::vector<std::uint8_t> buf(MemPort::kDefaultBufferSize);
    std::copy(request.begin(), request.end(), buf.begin());
    const auto view = packet::classify({buf.data(), request.size()}, packet::test::our_config());
    buf.resize(write(MutableByteSpan(buf), view));
    return buf;
}

TEST(WorkerTest, AnswersIpv4Request)
{
    Rig rig;
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"))));
    EXPECT_EQ(rig.poll(), 1u);
    const auto tx = rig.port.take_tx();
    ASSERT_EQ(tx.size(), 1u);
    expect_abc_answer(client_side_payload(tx[0], false));
    EXPECT_EQ(rig.stats().rx.get(), 1u);
    EXPECT_EQ(rig.stats().tx.get(), 1u);
    EXPECT_EQ(rig.stats().dropped.get(), 0u);
    EXPECT_EQ(rig.verdicts(packet::Verdict::HandleRequest), 1u);
    EXPECT_EQ(rig.stats().answers.answers.get(), 1u);
    EXPECT_EQ(rig.port.tx_burst_calls(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    EXPECT_EQ(rig.port.bad_frees(), 0u);
}

TEST(WorkerTest, AnswersIpv6Request)
{
    Rig rig;
    ASSERT_TRUE(rig.port.inject(udp6_frame(request_payload("88.100.1/abc"))));
    EXPECT_EQ(rig.poll(), 1u);
    const auto tx = rig.port.take_tx();
    ASSERT_EQ(tx.size(), 1u);
    expect_abc_answer(client_side_payload(tx[0], true));
    EXPECT_EQ(rig.stats().tx.get(), 1u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerTest, AnswersVlanRequestKeepingTags)
{
    Rig rig;
    const Tags tags{{0x88a8, 0x0007}, {0x8100, 0x0064}};
    ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload("88.100.1/abc"), tags)));
    EXPECT_EQ(rig.poll(), 1u);
    const auto tx = rig.port.take_tx();
    ASSERT_EQ(tx.size(), 1u);
    const std::uint8_t expected_tags[] = {0x88, 0xa8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x64};
    EXPECT_TRUE(std::equal(std::begin(expected_tags), std::end(expected_tags), tx[0].begin() + 12));
    expect_abc_answer(client_side_payload(tx[0], false));
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

TEST(WorkerTest, IpOptionsAreNotEchoed)
{
    // Golden-frame style: a request with 4 octets of IPv4 options (NOP x4) must get a reply
    // with a bare 20-octet header.
    Rig rig;
    auto f = udp4_frame(request_payload("88.100.1/abc"));
    f[14] = 0x46;
    f.insert(f.begin() + 34, {1, 1, 1, 1});
    const std::uint16_t total = static_cast<std::uint16_t>(packet::test::be16(&f[16]) + 4);
    f[16] = static_cast<std::uint8_t>(total >> 8);
    f[17] = static_cast<std::uint8_t>(total);
    f[24] = f[25] = 0;
    const std::uint16_t hc = packet::test::ref_checksum(packet::test::slice(f.data() + 14, 24));
    f[24] = static_cast<std::uint8_t>(hc >> 8);
    f[25] = static_cast<std::uint8_t>(hc);
    ASSERT_EQ(packet::classify(f, packet::test::our_config()).verdict,
              packet::Verdict::HandleRequest);
    ASSERT_TRUE(rig.port.inject(f));
    rig.poll();
    const auto tx = rig.port.take_tx();
    ASSERT_EQ(tx.size(), 1u);
    EXPECT_EQ(tx[0][14], 0x45);
    expect_abc_answer(client_side_payload(tx[0], false));
}

TEST(WorkerTest, MultiDatagramAnswer)
{
    for (const bool ipv6 : {false, true}) {
        SCOPED_TRACE(ipv6 ? "ipv6" : "ipv4");
        Rig rig;
        const auto req = request_payload("88.100.1/big");
        ASSERT_TRUE(rig.port.inject(ipv6 ? udp6_frame(req) : udp4_frame(req)));
        EXPECT_EQ(rig.poll(), 1u);
        const auto tx = rig.port.take_tx();
        ASSERT_GT(tx.size(), 1u);
        std::vector<std::uint8_t> message;
        std::set<std::uint16_t> ids;
        std::set<std::uint32_t> lengths; // every datagram carries the whole message's length
        for (std::size_t k = 0; k < tx.size(); ++k) {
            const auto payload = client_side_payload(tx[k], ipv6);
            ASSERT_LE(payload.size(), wire::kMaxUdpDatagram);
            const auto env = wire::decode_envelope(payload);
            ASSERT_TRUE(env.ok());
            EXPECT_EQ(env->sequence, k);
            EXPECT_EQ(env->request_id, 0x12345678u);
            EXPECT_TRUE(env->truncated());
            message.insert(message.end(), payload.begin() + wire::kEnvelopeSize, payload.end());
            if (k + 1 < tx.size()) {
                EXPECT_EQ(payload.size(), wire::kMaxUdpDatagram);
            }
            if (!ipv6)
                ids.insert(packet::test::be16(&tx[k][18]));
            lengths.insert(env->message_length);
        }
        if (!ipv6) {
            EXPECT_EQ(ids.size(), tx.size()); // a fresh IPv4 ID per datagram
        }
        EXPECT_EQ(lengths, std::set<std::uint32_t>{static_cast<std::uint32_t>(message.size())});
        const auto m = wire::decode_message(message);
        ASSERT_TRUE(m.ok());
        EXPECT_EQ(m->header.response_code, 1u);
        const auto body = wire::decode_response_body(m->header, m->body);
        ASSERT_TRUE(body.ok());
        ASSERT_EQ(body->resolution.values.size(), 2u);
        EXPECT_EQ(body->resolution.values[1].data, std::vector<std::uint8_t>(1200, 'y'));
        EXPECT_EQ(rig.stats().tx.get(), tx.size());
        EXPECT_EQ(rig.stats().answers.datagrams_out.get(), tx.size());
        EXPECT_EQ(rig.port.tx_burst_calls(), 1u);
        EXPECT_EQ(rig.port.buffers_in_use(), 0u);
        EXPECT_EQ(rig.port.bad_frees(), 0u);
    }
}

TEST(WorkerTest, LocalServicesAnsweredInPlace)
{
    const auto config = packet::test::our_config();
    struct Case {
        std::span<const std::uint8_t> request;
        packet::Verdict verdict;
        std::vector<std::uint8_t> expected;
    };
    const Case cases[] = {
        {golden::k_arp_ours, packet::Verdict::ArpRequest,
         reference(golden::k_arp_ours, [&](MutableByteSpan b, const packet::PacketView& v) {
             return packet::write_arp_reply(b, v, config);
         })},
        {golden::k_ns_ours, packet::Verdict::NeighborSolicitation,
         reference(golden::k_ns_ours, [&](MutableByteSpan b, const packet::PacketView& v) {
             return packet::write_neighbor_advertisement(b, v, config);
         })},
        {golden::k_icmp4_echo, packet::Verdict::IcmpEchoRequest,
         reference(golden::k_icmp4_echo, [](MutableByteSpan b, const packet::PacketView& v) {
             return packet::write_icmp_echo_reply(b, v);
         })},
        {golden::k_icmp6_echo, packet::Verdict::Icmpv6EchoRequest,
         reference(golden::k_icmp6_echo, [](MutableByteSpan b, const packet::PacketView& v) {
             return packet::write_icmpv6_echo_reply(b, v);
         })},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(packet::to_string(c.verdict));
        Rig rig;
        ASSERT_FALSE(c.expected.empty());
        ASSERT_TRUE(rig.port.inject(c.request));
        EXPECT_EQ(rig.poll(), 1u);
        const auto tx = rig.port.take_tx();
        ASSERT_EQ(tx.size(), 1u);
        EXPECT_EQ(tx[0], c.expected);
        EXPECT_TRUE(std::equal(config.mac.begin(), config.mac.end(), tx[0].begin() + 6));
        EXPECT_EQ(rig.verdicts(c.verdict), 1u);
        EXPECT_EQ(rig.stats().tx.get(), 1u);
        EXPECT_EQ(rig.port.buffers_in_use(), 0u);
    }
}

TEST(WorkerTest, LocalReplyTypes)
{
    // The reply type octets, checked directly rather than against the packet layer.
    Rig rig;
    for (const auto f : {std::span<const std::uint8_t>(golden::k_arp_ours),
                         std::span<const std::uint8_t>(golden::k_ns_ours),
                         std::span<const std::uint8_t>(golden::k_icmp4_echo),
                         std::span<const std::uint8_t>(golden::k_icmp6_echo)})
        ASSERT_TRUE(rig.port.inject(f));
    EXPECT_EQ(rig.poll(), 4u);
    const auto tx = rig.port.take_tx();
    ASSERT_EQ(tx.size(), 4u);
    EXPECT_EQ(packet::test::be16(&tx[0][20]), 2u); // ARP opcode reply
    EXPECT_EQ(tx[1][54], 136u);                    // Neighbor Advertisement
    EXPECT_EQ(tx[2][34], 0u);                      // ICMP echo reply
    EXPECT_EQ(tx[3][54], 129u);                    // ICMPv6 echo reply
    EXPECT_EQ(packet::test::ref_checksum(packet::test::slice(tx[2].data() + 14, 20)), 0u);
    EXPECT_EQ(packet::test::ref_l4_checksum(tx[3].data() + 14, true, 58, tx[3].data() + 54,
                                            packet::test::be16(&tx[3][18])),
              0u);
    EXPECT_EQ(packet::test::ref_l4_checksum(tx[1].data() + 14, true, 58, tx[1].data() + 54,
                                            packet::test::be16(&tx[1][18])),
              0u);
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

} // namespace
} // namespace idpath::worker::test
