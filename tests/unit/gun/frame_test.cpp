// The AF_XDP port's frames (perf/gun/frame.*): what build_frame() writes must be what
// dataplane/packet's classifier (the server's own parser) accepts, checksums included, and
// parse_answer_frame() must take apart what a server sends and refuse what is damaged. UDP
// checksums are also checked against a naive RFC 1071 sum written here, independent of
// dataplane/packet/checksum.hpp.
#include "perf/gun/frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/packet.hpp"
#include "perf/gun/family.hpp"
#include "perf/gun/xdp_args.hpp"
#include "perf/gun/xdp_inbox.hpp"
#include "perf/gun/xdp_source.hpp"

namespace idpath::gun {
namespace {

/// RFC 1071 the slow way: bytes paired by hand, carries folded at the end.
std::uint16_t naive_checksum(const std::vector<std::uint8_t>& bytes)
{
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const std::uint32_t hi = bytes[i];
        const std::uint32_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += hi * 256 + lo;
    }
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

FrameAddresses addresses(bool ipv6)
{
    FrameAddresses a;
    a.src_mac = {0x02, 0, 0, 0, 0, 0x02};
    a.dst_mac = {0x02, 0, 0, 0, 0, 0x01};
    a.ipv6 = ipv6;
    if (ipv6) {
        a.src = parse_address("2001:db8:1::2")->address;
        a.dst = parse_address("2001:db8:1::1")->address;
    } else {
        a.src = parse_address("192.0.2.2")->address;
        a.dst = parse_address("192.0.2.1")->address;
    }
    a.src_port = 40001;
    a.dst_port = 2641;
    return a;
}

std::vector<std::uint8_t> payload_of(std::size_t n)
{
    std::vector<std::uint8_t> p(n);
    for (std::size_t i = 0; i < n; ++i)
        p[i] = static_cast<std::uint8_t>(i * 7 + 3);
    return p;
}

std::vector<std::uint8_t> build(const FrameAddresses& a, const std::vector<std::uint8_t>& payload)
{
    std::vector<std::uint8_t> out(2048);
    const std::size_t n = build_frame(a, payload, out);
    EXPECT_EQ(n, frame_headers(a.ipv6) + payload.size());
    out.resize(n);
    return out;
}

/// What the server sees: dataplane/packet's classifier configured as the server.
packet::PacketView classify_as_server(const std::vector<std::uint8_t>& frame, const FrameAddresses& a)
{
    packet::PacketConfig c;
    c.ports[0] = a.dst_port;
    c.mac = a.dst_mac;
    if (a.ipv6) {
        c.ipv6[0] = a.dst;
        c.ipv6_count = 1;
    } else {
        std::copy(a.dst.begin() + 12, a.dst.end(), c.ipv4[0].begin());
        c.ipv4_count = 1;
    }
    return packet::classify(frame, c);
}

/// The UDP checksum recomputed over the pseudo-header, header (checksum zeroed) and payload.
std::uint16_t naive_udp_checksum(const std::vector<std::uint8_t>& f, bool ipv6)
{
    const std::size_t ip = 14;
    const std::size_t udp = ip + (ipv6 ? 40 : 20);
    const std::size_t udp_len = f.size() - udp;
    std::vector<std::uint8_t> sum;
    if (ipv6) {
        sum.insert(sum.end(), f.begin() + ip + 8, f.begin() + ip + 40); // source, destination
        sum.insert(sum.end(), {0, 0, static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len),
                               0, 0, 0, 17});
    } else {
        sum.insert(sum.end(), f.begin() + ip + 12, f.begin() + ip + 20);
        sum.insert(sum.end(), {0, 17, static_cast<std::uint8_t>(udp_len >> 8), static_cast<std::uint8_t>(udp_len)});
    }
    sum.insert(sum.end(), f.begin() + static_cast<std::ptrdiff_t>(udp), f.begin() + static_cast<std::ptrdiff_t>(udp) + 6);
    sum.insert(sum.end(), {0, 0}); // the checksum field itself counts as zero
    sum.insert(sum.end(), f.begin() + static_cast<std::ptrdiff_t>(udp) + 8, f.end());
    const std::uint16_t c = naive_checksum(sum);
    return c == 0 ? 0xffff : c;
}

class FrameFamily : public ::testing::TestWithParam<bool> {};

TEST_P(FrameFamily, TheServersClassifierAcceptsIt)
{
    const bool ipv6 = GetParam();
    const FrameAddresses a = addresses(ipv6);
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{57}, std::size_t{512}}) {
        const auto payload = payload_of(size);
        const auto f = build(a, payload);
        const packet::PacketView v = classify_as_server(f, a);
        ASSERT_EQ(v.verdict, packet::Verdict::HandleRequest)
            << "size " << size << ": " << packet::to_string(v.verdict) << " " << packet::to_string(v.reason);
        EXPECT_EQ(v.src_port, 40001);
        EXPECT_EQ(v.dst_port, 2641);
        EXPECT_TRUE(std::equal(v.payload.begin(), v.payload.end(), payload.begin(), payload.end()));
        EXPECT_EQ(v.src_addr, a.src);
    }
}

TEST_P(FrameFamily, ChecksumsAgreeWithAnIndependentSum)
{
    const bool ipv6 = GetParam();
    const auto f = build(addresses(ipv6), payload_of(101));
    const std::size_t udp = 14 + (ipv6 ? 40 : 20);
    EXPECT_EQ(load_be16(&f[udp + 6]), naive_udp_checksum(f, ipv6));
    if (!ipv6) {
        const std::vector<std::uint8_t> header(f.begin() + 14, f.begin() + 34);
        EXPECT_EQ(naive_checksum(header), 0); // a header with a right checksum sums to -0
        EXPECT_EQ(packet::internet_checksum(ByteSpan{f.data() + 14, 20}), 0);
    }
}

TEST_P(FrameFamily, HeadersAsWritten)
{
    const bool ipv6 = GetParam();
    const FrameAddresses a = addresses(ipv6);
    const auto f = build(a, payload_of(40));
    EXPECT_TRUE(std::equal(a.dst_mac.begin(), a.dst_mac.end(), f.begin()));
    EXPECT_TRUE(std::equal(a.src_mac.begin(), a.src_mac.end(), f.begin() + 6));
    EXPECT_EQ(load_be16(&f[12]), ipv6 ? 0x86dd : 0x0800);
    if (ipv6) {
        EXPECT_EQ(f[14] >> 4, 6);
        EXPECT_EQ(load_be16(&f[18]), 48); // payload length: UDP header + 40
        EXPECT_EQ(f[20], 17);
        EXPECT_EQ(f[21], 64);
    } else {
        EXPECT_EQ(f[14], 0x45);
        EXPECT_EQ(load_be16(&f[16]), 68); // total length
        EXPECT_EQ(load_be16(&f[20]), 0x4000); // DF
        EXPECT_EQ(f[22], 64);
        EXPECT_EQ(f[23], 17);
    }
    const std::size_t udp = frame_headers(ipv6) - 8;
    EXPECT_EQ(load_be16(&f[udp + 4]), 48);
}

TEST_P(FrameFamily, PayloadAlreadyInPlaceIsNotCopied)
{
    const bool ipv6 = GetParam();
    const FrameAddresses a = addresses(ipv6);
    const auto payload = payload_of(77);
    std::vector<std::uint8_t> out(2048);
    std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(frame_headers(ipv6)));
    const std::size_t n =
        build_frame(a, ByteSpan{out.data() + frame_headers(ipv6), payload.size()}, out);
    out.resize(n);
    EXPECT_EQ(out, build(a, payload));
}

TEST_P(FrameFamily, TooSmallABufferGivesZero)
{
    const bool ipv6 = GetParam();
    std::vector<std::uint8_t> out(frame_headers(ipv6) + 9);
    EXPECT_EQ(build_frame(addresses(ipv6), payload_of(10), out), 0u);
    EXPECT_EQ(build_frame(addresses(ipv6), payload_of(9), out), out.size());
}

/// An answer: the query's addresses and ports swapped.
FrameAddresses answer_addresses(bool ipv6)
{
    FrameAddresses a = addresses(ipv6);
    std::swap(a.src, a.dst);
    std::swap(a.src_port, a.dst_port);
    std::swap(a.src_mac, a.dst_mac);
    return a;
}

TEST_P(FrameFamily, AnswersParse)
{
    const bool ipv6 = GetParam();
    const FrameAddresses a = answer_addresses(ipv6);
    const auto payload = payload_of(333);
    auto f = build(a, payload);
    f.resize(f.size() + 5, 0); // Ethernet padding after the IP datagram
    const AnswerFrame r = parse_answer_frame(f);
    ASSERT_EQ(r.status, AnswerFrameStatus::Ok);
    EXPECT_EQ(r.ipv6, ipv6);
    EXPECT_EQ(r.src, a.src);
    EXPECT_EQ(r.dst, a.dst);
    EXPECT_EQ(r.src_port, 2641);
    EXPECT_EQ(r.dst_port, 40001);
    EXPECT_EQ(r.dst_mac, a.dst_mac);
    EXPECT_TRUE(std::equal(r.payload.begin(), r.payload.end(), payload.begin(), payload.end()));
}

TEST_P(FrameFamily, DamagedAnswersAreRefused)
{
    const bool ipv6 = GetParam();
    const auto good = build(answer_addresses(ipv6), payload_of(64));
    auto f = good;
    f.back() ^= 0x01; // payload bit flip: the UDP checksum catches it
    EXPECT_EQ(parse_answer_frame(f).status, AnswerFrameStatus::BadChecksum);
    f = good;
    f[14 + (ipv6 ? 8 : 12)] ^= 0x80; // source address: in the IPv4 header sum and the pseudo-header
    EXPECT_EQ(parse_answer_frame(f).status, AnswerFrameStatus::BadChecksum);
    for (std::size_t cut : {std::size_t{10}, std::size_t{30}, frame_headers(ipv6) - 1, good.size() - 1}) {
        const std::vector<std::uint8_t> t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        EXPECT_EQ(parse_answer_frame(t).status, AnswerFrameStatus::Malformed) << "cut at " << cut;
    }
    f = good;
    const std::size_t udp = frame_headers(ipv6) - 8;
    store_be16(&f[udp + 4], 7); // UDP length below its header
    EXPECT_EQ(parse_answer_frame(f).status, AnswerFrameStatus::Malformed);
    f = good;
    f[udp + 6] = f[udp + 7] = 0; // no UDP checksum: allowed over IPv4 only
    EXPECT_EQ(parse_answer_frame(f).status, ipv6 ? AnswerFrameStatus::BadChecksum : AnswerFrameStatus::Ok);
}

INSTANTIATE_TEST_SUITE_P(Ipv4AndIpv6, FrameFamily, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Ipv6" : "Ipv4"; });

TEST(Frame, NotUdpIsNotAnAnswer)
{
    auto f = build(answer_addresses(false), payload_of(20));
    store_be16(&f[12], 0x0806); // ARP
    EXPECT_EQ(parse_answer_frame(f).status, AnswerFrameStatus::NotUdp);
    f = build(answer_addresses(false), payload_of(20));
    store_be16(&f[20], 0x2000); // IPv4 MF: a fragment (header checksum now wrong too)
    EXPECT_EQ(parse_answer_frame(f).status, AnswerFrameStatus::NotUdp);
    f = build(answer_addresses(true), payload_of(20));
    f[20] = 58; // ICMPv6
    EXPECT_EQ(parse_answer_frame(f).status, AnswerFrameStatus::NotUdp);
    EXPECT_EQ(parse_answer_frame(ByteSpan{}).status, AnswerFrameStatus::Malformed);
}

TEST(XdpSource, StaysInItsRangesAndSpreads)
{
    const AddressRange addrs = *parse_address_range("10.0.0.10-10.0.0.13");
    const PortRange ports{2000, 2099};
    std::set<std::uint16_t> seen_ports;
    std::set<packet::IpAddress> seen_addrs;
    for (std::uint32_t id = 1000; id < 1064; ++id) {
        const XdpSource s = xdp_source(id, addrs, ports);
        EXPECT_GE(s.port, 2000);
        EXPECT_LE(s.port, 2099);
        EXPECT_EQ(s.address[14], 0);
        EXPECT_GE(s.address[15], 10);
        EXPECT_LE(s.address[15], 13);
        EXPECT_EQ(xdp_source(id, addrs, ports).port, s.port); // a function of the RequestId
        seen_ports.insert(s.port);
        seen_addrs.insert(s.address);
    }
    EXPECT_GT(seen_ports.size(), 50u); // consecutive ids do not share a port
    EXPECT_EQ(seen_addrs.size(), 4u);
    const XdpSource one = xdp_source(7, *parse_address_range("192.0.2.2"), PortRange{5000, 5000});
    EXPECT_EQ(one.port, 5000);
}

TEST(XdpSource, ThePortNamesTheQueue)
{
    const AddressRange addrs = *parse_address_range("192.0.2.2");
    const PortRange ports{2000, 65535};
    for (std::uint32_t queues : {1u, 2u, 3u, 8u})
        for (std::uint32_t q = 0; q < queues; ++q)
            for (std::uint32_t id = 0; id < 5000; id += 7) {
                const XdpSource s = xdp_source(id, addrs, ports, queues, q);
                ASSERT_GE(s.port, 2000);
                ASSERT_EQ(xdp_queue_of(s.port, ports, queues), q) << queues << " " << id;
            }
    // Ports outside the range, or in the remainder that no queue uses, belong to none.
    EXPECT_EQ(xdp_queue_of(1999, ports, 4), 4u);
    EXPECT_EQ(xdp_queue_of(65535, PortRange{2000, 2002}, 2), 2u); // 3 ports, 2 queues: 2002 unused
    EXPECT_EQ(xdp_queue_of(2001, PortRange{2000, 2002}, 2), 1u);
}

TEST(XdpInbox, HandsDatagramsOverInOrderAndRefusesWhenFull)
{
    XdpInbox inbox;
    std::array<std::uint8_t, wire::kMaxUdpDatagram> buf{};
    EXPECT_EQ(inbox.pop(buf.data()), -1);
    for (std::uint32_t i = 0; i < XdpInbox::kSlots; ++i) {
        const std::array<std::uint8_t, 3> d{static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8), 7};
        ASSERT_TRUE(inbox.push(ByteSpan{d.data(), 1 + i % 3}));
    }
    const std::array<std::uint8_t, 1> extra{1};
    EXPECT_FALSE(inbox.push(extra));
    for (std::uint32_t i = 0; i < XdpInbox::kSlots; ++i) {
        ASSERT_EQ(inbox.pop(buf.data()), static_cast<int>(1 + i % 3));
        ASSERT_EQ(buf[0], static_cast<std::uint8_t>(i));
    }
    EXPECT_EQ(inbox.pop(buf.data()), -1);
    EXPECT_TRUE(inbox.push(extra)); // wrapped around
    EXPECT_EQ(inbox.pop(buf.data()), 1);
}

/// Both families on two queues, as `--xdp IF 192.0.2.1 [2001:db8:1::1]:2642` sets them up: each
/// family its own server (and server port), next hop and sources, the ports shared.
XdpAddressing mixed_addressing()
{
    XdpAddressing a;
    a.src_mac = {0x02, 0, 0, 0, 0, 0x02};
    a.mix = FamilyMix::ByRequestId;
    a.ports = PortRange{30000, 30999};
    a.queues = 2;
    XdpPath& v4 = a.paths[0];
    v4.dst_mac = {0x02, 0, 0, 0, 0, 0x01};
    v4.sources = *parse_address_range("192.0.2.2-192.0.2.3");
    v4.server = parse_address("192.0.2.1")->address;
    v4.server_port = 2641;
    XdpPath& v6 = a.paths[1];
    v6.dst_mac = {0x02, 0, 0, 0, 0, 0x06};
    v6.sources = *parse_address_range("2001:db8:1::2");
    v6.server = parse_address("2001:db8:1::1")->address;
    v6.server_port = 2642;
    return a;
}

/// A datagram that carries `request_id` where a Handle envelope does.
std::vector<std::uint8_t> datagram_with_id(std::uint32_t request_id)
{
    auto d = payload_of(60);
    store_be32(&d[kXdpRequestIdOffset], request_id);
    return d;
}

/// The server's answer to query frame addresses `q`: everything swapped.
FrameAddresses answer_to(FrameAddresses q)
{
    std::swap(q.src, q.dst);
    std::swap(q.src_port, q.dst_port);
    std::swap(q.src_mac, q.dst_mac);
    return q;
}

TEST(XdpMix, FramesOfBothFamiliesFromOneSource)
{
    const XdpAddressing a = mixed_addressing();
    std::uint32_t per_family[2] = {0, 0};
    std::uint32_t longest_run = 0, run = 0;
    bool previous = false;
    for (std::uint32_t id = 5000; id < 5400; ++id) {
        const std::uint32_t queue = id % 2;
        const FrameAddresses q = xdp_query_addresses(a, id, queue);
        EXPECT_EQ(q.ipv6, query_is_ipv6(FamilyMix::ByRequestId, id));
        const XdpPath& p = a.path(q.ipv6);
        ++per_family[q.ipv6];
        run = q.ipv6 == previous ? run + 1 : 1;
        previous = q.ipv6;
        longest_run = std::max(longest_run, run);
        // Its family's server, next hop and source range; the shared ports, naming the queue.
        EXPECT_EQ(q.src_mac, a.src_mac);
        EXPECT_EQ(q.dst_mac, p.dst_mac);
        EXPECT_EQ(q.dst, p.server);
        EXPECT_EQ(q.dst_port, p.server_port);
        EXPECT_EQ(q.src, xdp_source(id, p.sources, a.ports, a.queues, queue).address);
        EXPECT_EQ(xdp_queue_of(q.src_port, a.ports, a.queues), queue);
        // The server of that family accepts the frame as a Handle request from that source.
        const auto d = datagram_with_id(id);
        const auto f = build(q, d);
        EXPECT_EQ(f.size(), frame_headers(q.ipv6) + d.size());
        const packet::PacketView v = classify_as_server(f, q);
        ASSERT_EQ(v.verdict, packet::Verdict::HandleRequest) << id << ": " << packet::to_string(v.reason);
        EXPECT_EQ(v.src_addr, q.src);
        EXPECT_EQ(v.src_port, q.src_port);
        // Its answer comes back to the queue that sent it; the same answer over the other family
        // (from that family's server, to our address there) belongs to no query.
        const auto answer = build(answer_to(q), d);
        const AnswerFrame r = parse_answer_frame(answer);
        ASSERT_EQ(r.status, AnswerFrameStatus::Ok);
        EXPECT_EQ(xdp_answer_queue(a, r), queue) << id;
        FrameAddresses crossed = answer_to(q);
        const XdpPath& other = a.path(!q.ipv6);
        crossed.ipv6 = !q.ipv6;
        crossed.src = other.server;
        crossed.src_port = other.server_port;
        crossed.dst = xdp_source(id, other.sources, a.ports, a.queues, queue).address;
        const auto crossed_frame = build(crossed, d); // outlives x, whose payload points into it
        const AnswerFrame x = parse_answer_frame(crossed_frame);
        ASSERT_EQ(x.status, AnswerFrameStatus::Ok);
        EXPECT_EQ(xdp_answer_queue(a, x), a.queues) << id;
    }
    // Half and half, interleaved (the golden-ratio sequence: never three of a family in a row).
    EXPECT_GE(per_family[0], 190u);
    EXPECT_GE(per_family[1], 190u);
    EXPECT_LE(longest_run, 2u);
}

TEST(XdpMix, AnswersAreCheckedAgainstTheirFamilysServerAndSource)
{
    const XdpAddressing a = mixed_addressing();
    std::uint32_t id = 7000;
    while (!query_is_ipv6(a.mix, id)) // an IPv6 query
        ++id;
    const auto d = datagram_with_id(id);
    const FrameAddresses good = answer_to(xdp_query_addresses(a, id, 1));
    ASSERT_TRUE(good.ipv6);
    EXPECT_EQ(xdp_answer_queue(a, parse_answer_frame(build(good, d))), 1u);
    FrameAddresses bad = good;
    bad.src_port = a.paths[0].server_port; // the IPv4 server's port, over IPv6
    EXPECT_EQ(xdp_answer_queue(a, parse_answer_frame(build(bad, d))), a.queues);
    bad = good;
    bad.src = parse_address("2001:db8:1::9")->address; // not the IPv6 server
    EXPECT_EQ(xdp_answer_queue(a, parse_answer_frame(build(bad, d))), a.queues);
    bad = good;
    bad.dst = parse_address("2001:db8:1::7")->address; // not the source its RequestId names
    EXPECT_EQ(xdp_answer_queue(a, parse_answer_frame(build(bad, d))), a.queues);
    // One family only: the other family's answers are nobody's, whatever they carry.
    XdpAddressing v4_only = a;
    v4_only.mix = FamilyMix::Ipv4;
    v4_only.paths[1] = XdpPath{};
    EXPECT_EQ(xdp_answer_queue(v4_only, parse_answer_frame(build(good, d))), v4_only.queues);
    const FrameAddresses q4 = xdp_query_addresses(v4_only, id, 0);
    EXPECT_FALSE(q4.ipv6);
    EXPECT_EQ(xdp_answer_queue(v4_only, parse_answer_frame(build(answer_to(q4), d))), 0u);
}

TEST(XdpMix, TheMatcherCountsByTheSameRule)
{
    // FamilyMix::Ipv4/Ipv6 fix a flow's family (sockets); None means no per-family counting.
    EXPECT_FALSE(query_is_ipv6(FamilyMix::Ipv4, 3));
    EXPECT_TRUE(query_is_ipv6(FamilyMix::Ipv6, 3));
    EXPECT_FALSE(query_is_ipv6(FamilyMix::None, 3));
    std::uint32_t v6 = 0;
    for (std::uint32_t id = 0; id < 100000; ++id)
        v6 += query_is_ipv6(FamilyMix::ByRequestId, id * 7919u + 12345u) ? 1 : 0;
    EXPECT_NEAR(v6, 50000.0, 1000.0);
}

} // namespace
} // namespace idpath::gun
