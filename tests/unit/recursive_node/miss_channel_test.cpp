// The two ways a resolver thread answers a punted request (controlplane/app/*_miss_channel): as
// frames into a DPDK worker's inbox, and with sendmsg() on a UDP serving thread's socket. Both
// cut a large reply into datagrams as the serving path does: the envelope repeated with its
// SequenceNumber and the truncated flag, the message in 492-octet chunks.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "controlplane/app/frame_miss_channel.hpp"
#include "controlplane/app/socket_miss_channel.hpp"
#include "drivers/socket/unique_fd.hpp"
#include "tests/unit/recursive_node/scripted_handler.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"
#include "tests/unit/packet/packet_test_util.hpp"
#include "tests/unit/worker/worker_frames.hpp"

namespace idpath::app {
namespace {

using MissChannelServed = MissChannel::Served;
using test::reply_of;
using test::Scripted;

/// Checks that `datagrams` carry `reply` as the serving path cuts it.
void expect_cut_of(const std::vector<std::vector<std::uint8_t>>& datagrams, const std::vector<std::uint8_t>& reply)
{
    const std::size_t message = reply.size() - wire::kEnvelopeSize;
    const std::size_t count = message <= 492 ? 1 : (message + 491) / 492;
    ASSERT_EQ(datagrams.size(), count);
    std::vector<std::uint8_t> joined;
    for (std::size_t k = 0; k < count; ++k) {
        const auto& d = datagrams[k];
        ASSERT_GE(d.size(), wire::kEnvelopeSize);
        ASSERT_LE(d.size(), 512u);
        EXPECT_EQ(load_be32(d.data() + 8), 0x01020304u) << k;
        EXPECT_EQ(load_be32(d.data() + 12), k) << "SequenceNumber";
        EXPECT_EQ(load_be32(d.data() + 16), message) << "the whole message's length";
        EXPECT_EQ((d[2] & 0x20) != 0, count > 1) << "truncated flag";
        joined.insert(joined.end(), d.begin() + wire::kEnvelopeSize, d.end());
    }
    EXPECT_TRUE(std::equal(joined.begin(), joined.end(), reply.begin() + wire::kEnvelopeSize, reply.end()));
}

/// What a probe ring holds, oldest first (the ring is left empty).
std::vector<querylog::ProbeSlot> drained(querylog::ProbeRing& ring)
{
    const auto r = ring.peek();
    std::vector<querylog::ProbeSlot> out(r.first.begin(), r.first.end());
    out.insert(out.end(), r.second.begin(), r.second.end());
    ring.release(r.size());
    return out;
}

std::vector<std::uint8_t> bytes_of(const querylog::ProbeSlot& s)
{
    return {s.data.begin(), s.data.begin() + s.length};
}

// ---- frames, for a DPDK worker ----

struct FrameChannelTest : ::testing::Test {
    FrameChannelTest() : queues(8, 8), channel(queues) {}

    /// Punts `request` as a worker would, over IPv4 or IPv6; `probed` as its probe sampled it.
    void punt(const std::vector<std::uint8_t>& request, bool ipv6, bool probed = false)
    {
        const auto frame = ipv6 ? worker::test::udp6_frame(request) : worker::test::udp4_frame(request);
        const packet::PacketView view = packet::classify(frame, packet::test::our_config());
        ASSERT_EQ(view.verdict, packet::Verdict::HandleRequest);
        worker::FrameMiss* m = queues.misses.claim();
        ASSERT_NE(m, nullptr);
        ASSERT_TRUE(worker::fill_frame_miss(*m, frame, view, 1234, probed));
        queues.misses.push();
    }

    /// The inbox's frames, each checked from the client's side; their UDP payloads (or, with
    /// `frames`, the whole frames).
    std::vector<std::vector<std::uint8_t>> sent(bool ipv6, std::vector<std::vector<std::uint8_t>>* frames = nullptr)
    {
        std::vector<std::vector<std::uint8_t>> out;
        const auto r = queues.replies.peek();
        for (std::size_t i = 0; i < r.size(); ++i) {
            const worker::ReplyFrame& f = i < r.first.size() ? r.first[i] : r.second[i - r.first.size()];
            const std::vector<std::uint8_t> frame(f.frame.begin(), f.frame.begin() + f.length);
            if (frames != nullptr)
                frames->push_back(frame);
            const packet::PacketView v = packet::classify(frame, packet::test::client_config());
            EXPECT_EQ(v.verdict, packet::Verdict::HandleRequest) << packet::to_string(v.reason);
            EXPECT_EQ(v.family, ipv6 ? packet::L3Family::Ipv6 : packet::L3Family::Ipv4);
            EXPECT_EQ(v.src_port, 2641);
            EXPECT_EQ(v.dst_port, worker::test::kClientPort);
            out.emplace_back(v.payload.begin(), v.payload.end());
        }
        queues.replies.release(r.size());
        return out;
    }

    worker::PuntQueues queues;
    FrameMissChannel channel;
};

TEST_F(FrameChannelTest, OneDatagramReplyAsOneFrame)
{
    const std::vector<std::uint8_t> request(40, 7);
    punt(request, false);
    const auto reply = reply_of(100);
    Scripted handler(reply);
    EXPECT_EQ(channel.serve_one(handler), MissChannelServed::Replied);
    EXPECT_EQ(handler.request, request); // the datagram as punted
    EXPECT_EQ(handler.rx_ns, 1234u);
    EXPECT_EQ(handler.peer.client, packet::map_ipv4(packet::test::client_config().ipv4[0].data()));
    EXPECT_EQ(handler.peer.client_port, worker::test::kClientPort);
    EXPECT_EQ(handler.peer.server_port, 2641);
    EXPECT_EQ(handler.peer.family, 4);
    EXPECT_EQ(handler.sent_datagrams, 1u);
    expect_cut_of(sent(false), reply);
    EXPECT_EQ(channel.serve_one(handler), MissChannelServed::None);
    EXPECT_EQ(handler.replies, 1);
    EXPECT_EQ(handler.sents, 1);
}

TEST_F(FrameChannelTest, LargeReplyCutIntoFramesInOrder)
{
    for (const bool ipv6 : {false, true}) {
        punt(std::vector<std::uint8_t>(40, 7), ipv6);
        const auto reply = reply_of(1200); // three datagrams
        Scripted handler(reply);
        EXPECT_EQ(channel.serve_one(handler), MissChannelServed::Replied);
        EXPECT_EQ(handler.sent_datagrams, 3u);
        EXPECT_EQ(handler.peer.family, ipv6 ? 6 : 4);
        expect_cut_of(sent(ipv6), reply);
    }
}

TEST_F(FrameChannelTest, NoRoomForTheWholeReplyGivesNothing)
{
    punt(std::vector<std::uint8_t>(40, 7), false);
    Scripted handler(reply_of(492 * 9)); // nine frames, eight slots
    EXPECT_EQ(channel.serve_one(handler), MissChannelServed::SendFailed);
    EXPECT_EQ(handler.sents, 1);
    EXPECT_EQ(handler.sent_datagrams, 0u);
    EXPECT_EQ(queues.replies.peek().size(), 0u);
}

TEST_F(FrameChannelTest, NoReplyIsSilent)
{
    punt(std::vector<std::uint8_t>(40, 7), false);
    Scripted handler;
    EXPECT_EQ(channel.serve_one(handler), MissChannelServed::Silent);
    EXPECT_EQ(handler.sents, 1);
    EXPECT_EQ(handler.sent_datagrams, 0u);
    EXPECT_EQ(queues.replies.peek().size(), 0u);
}

TEST_F(FrameChannelTest, AProbedRequestsReplyIsCapturedFrameByFrame)
{
    querylog::ProbeRing ring(16);
    querylog::Probe probe(querylog::ProbeTarget{&ring, 5, 1, querylog::kProbeSnapMax});
    for (const bool probed : {true, false}) {
        punt(std::vector<std::uint8_t>(40, 7), true, probed);
        Scripted handler(reply_of(1200)); // three frames
        handler.capture = &probe;
        EXPECT_EQ(channel.serve_one(handler), MissChannelServed::Replied);
        EXPECT_EQ(handler.probed, probed);
        probe.end_burst(77); // the resolver's handler publishes in sent()
        std::vector<std::vector<std::uint8_t>> frames;
        sent(true, &frames);
        const auto got = drained(ring);
        if (!probed) {
            EXPECT_TRUE(got.empty());
            continue;
        }
        ASSERT_EQ(got.size(), frames.size());
        for (std::size_t k = 0; k < got.size(); ++k) {
            EXPECT_EQ(bytes_of(got[k]), frames[k]) << k; // the frame the worker transmits
            EXPECT_EQ(got[k].direction, querylog::ProbeDirection::Response);
            EXPECT_EQ(got[k].link, querylog::ProbeLink::Ethernet);
            EXPECT_EQ(got[k].source, 5u);
            EXPECT_EQ(got[k].time_ns, 77u);
        }
    }
}

// ---- sendmsg, for a UDP serving thread ----

sockaddr_in bound_loopback(int fd)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    return a;
}

/// Claims a miss of a 40-octet request from `client` to the socket `fd` (nullptr when the ring
/// is full); the caller sets the rest and pushes it.
socket::Miss* claim_miss(socket::MissRing& ring, int fd, const sockaddr_in& client)
{
    socket::Miss* m = ring.claim();
    if (m == nullptr)
        return nullptr;
    std::memcpy(&m->client, &client, sizeof client);
    m->client_length = sizeof client;
    m->control_length = 0;
    m->fd = fd;
    m->length = 40;
    return m;
}

/// A serving socket and a client socket on loopback, and a channel over a miss ring.
class SocketMissChannelLoopback : public ::testing::Test {
protected:
    const socket::UniqueFd server{::socket(AF_INET, SOCK_DGRAM, 0)};
    const socket::UniqueFd client{::socket(AF_INET, SOCK_DGRAM, 0)};
    const sockaddr_in server_address = bound_loopback(server.get());
    const sockaddr_in client_address = bound_loopback(client.get());
    socket::MissRing ring{4};
    SocketMissChannel channel{ring};
};

TEST_F(SocketMissChannelLoopback, RepliesFromTheServingSocketToTheClientCutAsServed)
{
    const auto reply = reply_of(1000);
    for (int round = 0; round < 2; ++round) {
        socket::Miss* m = claim_miss(ring, server.get(), client_address);
        ASSERT_NE(m, nullptr);
        m->rx_ns = 99;
        ring.push();
        Scripted handler(reply);
        ASSERT_EQ(channel.serve_one(handler), MissChannelServed::Replied);
        EXPECT_EQ(handler.request.size(), 40u);
        EXPECT_EQ(handler.rx_ns, 99u);
        EXPECT_EQ(handler.sent_datagrams, 3u);
        std::vector<std::vector<std::uint8_t>> got;
        pollfd p{client.get(), POLLIN, 0};
        while (::poll(&p, 1, 1000) == 1) {
            std::vector<std::uint8_t> d(2048);
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(client.get(), d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
            ASSERT_GT(n, 0);
            EXPECT_EQ(from.sin_port, server_address.sin_port); // from the serving socket
            d.resize(static_cast<std::size_t>(n));
            got.push_back(std::move(d));
            if (got.size() == 3)
                break;
        }
        expect_cut_of(got, reply);
    }
    Scripted idle;
    EXPECT_EQ(channel.serve_one(idle), MissChannelServed::None);
}

TEST_F(SocketMissChannelLoopback, AProbedRequestsReplyIsCapturedAsTheIpPacketsSent)
{
    querylog::ProbeRing probe_ring(16);
    querylog::Probe probe(querylog::ProbeTarget{&probe_ring, 2, 1, querylog::kProbeSnapMax});
    socket::Miss* m = claim_miss(ring, server.get(), client_address);
    ASSERT_NE(m, nullptr);
    m->probed = true;
    m->peer.family = 4;
    m->peer.client = packet::map_ipv4(reinterpret_cast<const std::uint8_t*>(&client_address.sin_addr));
    m->peer.server = packet::map_ipv4(reinterpret_cast<const std::uint8_t*>(&server_address.sin_addr));
    m->peer.client_port = ntohs(client_address.sin_port);
    m->peer.server_port = ntohs(server_address.sin_port);
    ring.push();
    const auto reply = reply_of(1000); // three datagrams
    Scripted handler(reply);
    handler.capture = &probe;
    ASSERT_EQ(channel.serve_one(handler), MissChannelServed::Replied);
    EXPECT_TRUE(handler.probed);
    probe.end_burst(88);
    const auto got = drained(probe_ring);
    ASSERT_EQ(got.size(), 3u);
    std::vector<std::vector<std::uint8_t>> payloads;
    for (const auto& slot : got) {
        EXPECT_EQ(slot.direction, querylog::ProbeDirection::Response);
        EXPECT_EQ(slot.link, querylog::ProbeLink::RawIp);
        EXPECT_EQ(slot.time_ns, 88u);
        const auto b = bytes_of(slot);
        ASSERT_GE(b.size(), 28u);
        EXPECT_EQ(b[0], 0x45); // IPv4, no options
        EXPECT_EQ(std::memcmp(b.data() + 12, &server_address.sin_addr, 4), 0) << "from the server";
        EXPECT_EQ(std::memcmp(b.data() + 16, &client_address.sin_addr, 4), 0) << "to the client";
        EXPECT_EQ(load_be16(b.data() + 20), ntohs(server_address.sin_port));
        EXPECT_EQ(load_be16(b.data() + 22), ntohs(client_address.sin_port));
        payloads.emplace_back(b.begin() + 28, b.end());
    }
    expect_cut_of(payloads, reply);
}

TEST(SocketMissChannel, ASendErrorIsReported)
{
    socket::MissRing ring(4);
    SocketMissChannel channel(ring);
    socket::Miss* m = ring.claim();
    ASSERT_NE(m, nullptr);
    m->client_length = 0;
    m->control_length = 0;
    m->fd = -1; // a socket that is gone
    m->length = 40;
    ring.push();
    Scripted handler(reply_of(10));
    EXPECT_EQ(channel.serve_one(handler), MissChannelServed::SendFailed);
    EXPECT_EQ(handler.sent_datagrams, 0u);
}

} // namespace
} // namespace idpath::app
