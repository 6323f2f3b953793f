// A resolver thread's side of a TCP punt (controlplane/app/tcp_miss_channel): the reply goes back
// whole, tagged with the connection's slot and generation, to the TCP loop's reply queue, whose
// eventfd wakes the loop; a full queue drops it, counted.

#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <vector>

#include "controlplane/app/tcp_miss_channel.hpp"
#include "tests/unit/recursive_node/scripted_handler.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::app {
namespace {

using test::reply_of;
using test::Scripted;

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
    EXPECT_EQ(handler.sent_datagrams, 1u) << "one reply, not cut into datagrams";
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
    EXPECT_EQ(handler.sent_datagrams, 0u);
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
    EXPECT_EQ(handler.sent_datagrams, 0u);
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
