// A resolver thread's side of a TCP punt (controlplane/app/tcp_miss_channel): the reply goes back
// whole, tagged with the connection's slot and generation, to the TCP loop's reply queue, whose
// eventfd wakes the loop; a full queue drops it, counted.

#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <vector>

#include "controlplane/app/tcp_miss_channel.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::app {
namespace {

/// A resolver's handler with a scripted reply; remembers what it was shown and told.
class Scripted final : public MissChannel::Handler {
public:
    explicit Scripted(std::vector<std::uint8_t> reply = {}) : reply_(std::move(reply)) {}

    ByteSpan reply(const Punted& p) override
    {
        request.assign(p.request.begin(), p.request.end());
        peer = p.peer;
        rx_ns = p.rx_ns;
        ++replies;
        return reply_;
    }
    void sent(const Punted&, std::uint32_t n) override
    {
        sent_count = n;
        ++sents;
    }

    std::vector<std::uint8_t> request;
    querylog::Peer peer{};
    std::uint64_t rx_ns = 0;
    std::uint32_t sent_count = 99;
    int replies = 0, sents = 0;

private:
    std::vector<std::uint8_t> reply_;
};

std::vector<std::uint8_t> reply_of(std::size_t message_length)
{
    std::vector<std::uint8_t> r(wire::kEnvelopeSize + message_length);
    r[0] = 2;
    r[1] = 11;
    store_be32(r.data() + 16, static_cast<std::uint32_t>(message_length));
    for (std::size_t i = 0; i < message_length; ++i)
        r[wire::kEnvelopeSize + i] = static_cast<std::uint8_t>(i % 251);
    return r;
}

bool readable(int fd)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

struct TcpMissChannelTest : ::testing::Test {
    TcpMissChannelTest() : queue(8, 2), channel(queue) {}

    /// Punts `request` as the TCP loop would, from connection (slot, generation).
    void punt(const std::vector<std::uint8_t>& request, std::uint32_t slot, std::uint32_t generation)
    {
        socket::TcpMiss* m = queue.misses.claim();
        ASSERT_NE(m, nullptr);
        m->slot = slot;
        m->generation = generation;
        m->peer.client_port = 40000;
        m->peer.server_port = 2641;
        m->peer.transport = querylog::Transport::Tcp;
        m->rx_ns = 1234;
        std::copy(request.begin(), request.end(), m->request.begin());
        m->length = static_cast<std::uint32_t>(request.size());
        queue.misses.push();
    }

    std::vector<socket::TcpReply> taken()
    {
        std::vector<socket::TcpReply> out;
        queue.take(out);
        return out;
    }

    socket::TcpPuntQueue queue;
    TcpMissChannel channel;
};

TEST_F(TcpMissChannelTest, TheReplyGoesBackWholeToItsConnection)
{
    ASSERT_TRUE(queue.valid());
    const std::vector<std::uint8_t> request(60, 7);
    punt(request, 3, 17);
    const auto reply = reply_of(5000); // ten datagrams' worth over UDP; one reply over TCP
    Scripted handler(reply);
    EXPECT_FALSE(readable(queue.event_fd()));
    EXPECT_EQ(channel.serve_one(handler), MissChannel::Served::Replied);
    EXPECT_EQ(handler.request, request);
    EXPECT_EQ(handler.rx_ns, 1234u);
    EXPECT_EQ(handler.peer.client_port, 40000);
    EXPECT_EQ(handler.peer.transport, querylog::Transport::Tcp);
    EXPECT_EQ(handler.sents, 1);
    EXPECT_EQ(handler.sent_count, 1u) << "one reply, not cut into datagrams";
    EXPECT_TRUE(readable(queue.event_fd())) << "the loop is woken";
    const auto r = taken();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].slot, 3u);
    EXPECT_EQ(r[0].generation, 17u);
    EXPECT_EQ(r[0].bytes, reply);
    EXPECT_FALSE(readable(queue.event_fd())) << "take() resets the eventfd";
    EXPECT_EQ(channel.serve_one(handler), MissChannel::Served::None);
    EXPECT_EQ(handler.replies, 1);
}

TEST_F(TcpMissChannelTest, NoReplyTellsTheLoopToClose)
{
    punt(std::vector<std::uint8_t>(60, 7), 1, 2);
    Scripted handler;
    EXPECT_EQ(channel.serve_one(handler), MissChannel::Served::Silent);
    EXPECT_EQ(handler.sent_count, 0u);
    const auto r = taken();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].slot, 1u);
    EXPECT_TRUE(r[0].bytes.empty());
}

TEST_F(TcpMissChannelTest, OverTheBoundTheReplyIsDroppedAndCounted)
{
    const auto reply = reply_of(100);
    for (std::uint32_t i = 0; i < 3; ++i)
        punt(std::vector<std::uint8_t>(60, static_cast<std::uint8_t>(i)), i, 0);
    Scripted handler(reply);
    EXPECT_EQ(channel.serve_one(handler), MissChannel::Served::Replied);
    EXPECT_EQ(channel.serve_one(handler), MissChannel::Served::Replied);
    EXPECT_EQ(channel.serve_one(handler), MissChannel::Served::SendFailed); // bound: 2
    EXPECT_EQ(handler.sent_count, 0u);
    EXPECT_EQ(queue.replies_dropped(), 1u);
    const auto r = taken();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].slot, 0u) << "in the order given";
    EXPECT_EQ(r[1].slot, 1u);
    // Taken: room again.
    punt(std::vector<std::uint8_t>(60, 9), 5, 0);
    EXPECT_EQ(channel.serve_one(handler), MissChannel::Served::Replied);
    EXPECT_EQ(taken().size(), 1u);
}

} // namespace
} // namespace idpath::app
