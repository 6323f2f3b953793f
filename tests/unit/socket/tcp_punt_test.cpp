// The recursive role over TCP (drivers/socket/tcp_punt.hpp, TcpLoop): a miss with REC set goes to
// the punt queue, the connection waits for the reply given back (here by the test, standing in for
// a resolver thread) and answers what it buffered meanwhile after it, in order; a reply for a
// connection closed since is dropped; a reply that never comes closes the connection after the
// punt timeout; a full queue answers from the table.

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "drivers/socket/tcp_framer.hpp"
#include "drivers/socket/tcp_punt.hpp"
#include "drivers/socket/tcp_server.hpp"
#include "tests/unit/socket/socket_fixture.hpp"

namespace idpath::socket {
namespace {

using test::decode_answer;
using test::eventually;
using test::make_request;
using namespace std::chrono_literals;


/// Reads exactly `n` octets from the (non-blocking) socket within 2 s.
bool read_exactly(int fd, std::uint8_t* out, std::size_t n)
{
    std::size_t got = 0;
    const auto end = std::chrono::steady_clock::now() + 2000ms;
    while (got < n && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        const ssize_t r = ::recv(fd, out + got, n - got, 0);
        if (r <= 0)
            return false;
        got += static_cast<std::size_t>(r);
    }
    return got == n;
}

class TcpPuntTest : public ::testing::Test {
protected:
    TcpPuntTest() { policy_.recursive = true; }

    Endpoint start(std::size_t ring_entries = 64, std::uint32_t punt_timeout_ms = 10000,
                   std::uint32_t idle_timeout_ms = 10000)
    {
        queue_ = std::make_unique<TcpPuntQueue>(ring_entries);
        EXPECT_TRUE(queue_->valid());
        TcpServerOptions o;
        o.listen = {test::loopback(AF_INET)};
        o.punts = queue_.get();
        o.punt_timeout_ms = punt_timeout_ms;
        o.idle_timeout_ms = idle_timeout_ms;
        server_ = std::make_unique<TcpServer>(o, policy_, [this] { return table_.get(); });
        const auto started = server_->start();
        EXPECT_TRUE(started.ok()) << test::error_text(started);
        return started.ok() ? server_->bound().front() : Endpoint{};
    }

    /// The next punted request, as a resolver thread takes it.
    TcpMiss take_miss()
    {
        TcpMiss m;
        EXPECT_TRUE(eventually([&] { return queue_->misses.take(m); })) << "nothing punted";
        return m;
    }

    /// Answers `m` as a resolver would: here with its own request bytes, a well-formed frame
    /// with the same RequestId.
    void answer(const TcpMiss& m)
    {
        ASSERT_TRUE(queue_->give(m.slot, m.generation, ByteSpan{m.request.data(), m.length}));
    }

    const TcpStats& stats() const { return server_->tcp_stats(); }
    const resolve::ResolveStats& resolve_stats() const { return *server_->stats().front(); }

    resolve::Policy policy_;
    std::shared_ptr<const table::Table> table_ = test::socket_table();
    std::unique_ptr<TcpPuntQueue> queue_;
    std::unique_ptr<TcpServer> server_; // after queue_: stops first
};

TEST_F(TcpPuntTest, APuntedRequestGetsItsReplyOnTheConnection)
{
    const Endpoint ep = start();
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok()) << test::error_text(conn);
    const auto request = make_request("77.7/elsewhere", 5);
    ASSERT_TRUE(conn->send(request, 2000).ok());
    const TcpMiss m = take_miss();
    ASSERT_EQ(m.length, request.size());
    EXPECT_TRUE(std::equal(request.begin(), request.end(), m.request.begin())) << "envelope + message as sent";
    EXPECT_EQ(resolve_stats().punted.get(), 1u);
    EXPECT_EQ(resolve_stats().answers.get(), 0u);
    answer(m);
    const auto r = conn->receive(5, 2000);
    ASSERT_TRUE(r.ok()) << test::error_text(r);
    EXPECT_TRUE(std::equal(r->message.begin(), r->message.end(), request.begin() + wire::kEnvelopeSize,
                           request.end()));
    // The connection serves on: a hit is answered at once.
    ASSERT_TRUE(conn->send(make_request("88.100.1/abc", 6), 2000).ok());
    const auto hit = conn->receive(6, 2000);
    ASSERT_TRUE(hit.ok()) << test::error_text(hit);
    EXPECT_EQ(decode_answer(hit->message).header.response_code, 1u);
}

TEST_F(TcpPuntTest, PipelinedRequestsAreAnsweredAfterThePuntedOneInOrder)
{
    const Endpoint ep = start();
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok()) << test::error_text(conn);
    std::vector<std::uint8_t> burst = make_request("77.7/first", 1);
    for (const auto& more : {make_request("88.100.1/abc", 2), make_request("77.7/third", 3)})
        burst.insert(burst.end(), more.begin(), more.end());
    ASSERT_TRUE(conn->send(burst, 2000).ok());
    const TcpMiss first = take_miss();
    EXPECT_EQ(load_be32(first.request.data() + 8), 1u);
    // The hit behind it waits: nothing else was handled, nothing else punted.
    EXPECT_EQ(resolve_stats().requests.get(), 1u);
    answer(first);
    // receive() skips frames of other ids: answered out of order, the first would be lost.
    const auto r1 = conn->receive(1, 2000);
    ASSERT_TRUE(r1.ok()) << test::error_text(r1);
    const auto r2 = conn->receive(2, 2000);
    ASSERT_TRUE(r2.ok()) << test::error_text(r2);
    EXPECT_EQ(decode_answer(r2->message).header.response_code, 1u);
    const TcpMiss third = take_miss(); // punted in turn, once the hit was answered
    EXPECT_EQ(load_be32(third.request.data() + 8), 3u);
    EXPECT_EQ(third.slot, first.slot);
    answer(third);
    EXPECT_TRUE(conn->receive(3, 2000).ok());
    EXPECT_EQ(resolve_stats().punted.get(), 2u);
}

TEST_F(TcpPuntTest, MorePipelinedThanOneBufferHoldsWaitsAndIsAnsweredAfter)
{
    // While the connection waits, reading fills the framer's buffer and then pauses; everything
    // is answered in order once the reply is written.
    const Endpoint ep = start();
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok()) << test::error_text(conn);
    std::vector<std::uint8_t> burst = make_request("77.7/first", 1);
    constexpr std::uint32_t kHits = 200; // well over TcpFramer::kSmallBuffer of requests
    for (std::uint32_t id = 2; id < 2 + kHits; ++id) {
        const auto hit = make_request("88.100.1/abc", id);
        burst.insert(burst.end(), hit.begin(), hit.end());
    }
    ASSERT_GT(burst.size(), 2 * TcpFramer::kSmallBuffer);
    ASSERT_TRUE(conn->send(burst, 2000).ok());
    const TcpMiss first = take_miss();
    EXPECT_EQ(resolve_stats().requests.get(), 1u);
    answer(first);
    for (std::uint32_t id = 1; id < 2 + kHits; ++id) {
        const auto r = conn->receive(id, 2000);
        ASSERT_TRUE(r.ok()) << id << ": " << test::error_text(r);
    }
    EXPECT_EQ(resolve_stats().requests.get(), 1u + kHits);
    EXPECT_EQ(stats().open(), 1u);
}

TEST_F(TcpPuntTest, TheReplyThatNeverComesClosesTheConnectionAfterThePuntTimeout)
{
    // A 50 ms idle timeout does not touch a waiting connection; the 300 ms punt timeout does.
    const Endpoint ep = start(64, 300, 50);
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok()) << test::error_text(conn);
    ASSERT_TRUE(conn->send(make_request("77.7/slow", 7), 2000).ok());
    (void)take_miss();
    const auto r = conn->receive(7, 5000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_kind(r), ClientError::Kind::Network) << test::error_text(r); // closed
    EXPECT_TRUE(eventually([&] { return stats().closed_punt_timeout.get() == 1; }));
    EXPECT_EQ(stats().closed_idle.get(), 0u);
    EXPECT_EQ(stats().open(), 0u);
}

TEST_F(TcpPuntTest, AReplyForAClosedConnectionIsDropped)
{
    const Endpoint ep = start(64, 200);
    {
        auto conn = TcpConnection::open(ep, 2000);
        ASSERT_TRUE(conn.ok()) << test::error_text(conn);
        ASSERT_TRUE(conn->send(make_request("77.7/late", 8), 2000).ok());
        const TcpMiss late = take_miss();
        ASSERT_TRUE(eventually([&] { return stats().closed_punt_timeout.get() == 1; }));
        // A new connection takes the freed slot, with a new generation.
        auto next = TcpConnection::open(ep, 2000);
        ASSERT_TRUE(next.ok()) << test::error_text(next);
        ASSERT_TRUE(eventually([&] { return stats().accepted.get() == 2; }));
        answer(late);
        ASSERT_TRUE(eventually([&] { return stats().punt_replies_stale.get() == 1; }));
        // The newcomer got nothing of it: its own answer is the first frame it reads.
        ASSERT_TRUE(next->send(make_request("88.100.1/abc", 9), 2000).ok());
        std::uint8_t envelope[wire::kEnvelopeSize];
        ASSERT_TRUE(read_exactly(next->fd(), envelope, sizeof envelope));
        EXPECT_EQ(load_be32(envelope + 8), 9u);
    }
}

TEST_F(TcpPuntTest, AFullQueueAnswersFromTheTable)
{
    const Endpoint ep = start(2);
    std::vector<TcpConnection> waiting;
    for (std::uint32_t id = 1; id <= 2; ++id) {
        auto conn = TcpConnection::open(ep, 2000);
        ASSERT_TRUE(conn.ok()) << test::error_text(conn);
        ASSERT_TRUE(conn->send(make_request("77.7/w" + std::to_string(id), id), 2000).ok());
        ASSERT_TRUE(eventually([&] { return resolve_stats().punted.get() == id; }));
        waiting.push_back(std::move(*conn));
    }
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok()) << test::error_text(conn);
    ASSERT_TRUE(conn->send(make_request("77.7/full", 3), 2000).ok());
    const auto r = conn->receive(3, 2000);
    ASSERT_TRUE(r.ok()) << test::error_text(r);
    EXPECT_EQ(decode_answer(r->message).header.response_code, 301u) << "what the table alone says";
    EXPECT_EQ(resolve_stats().punted.get(), 3u);
    EXPECT_EQ(resolve_stats().punt_dropped.get(), 1u);
    EXPECT_EQ(resolve_stats().requests.get(), 3u) << "counted once";
}

TEST_F(TcpPuntTest, ARequestLargerThanAMissSlotIsAnsweredFromTheTable)
{
    const Endpoint ep = start();
    QueryOptions q;
    q.server = ep;
    q.tcp = true;
    // Grown past a miss slot by its type filter.
    std::vector<std::string> types;
    for (int i = 0; i < 200; ++i)
        types.push_back("TYPE.FILTER." + std::to_string(i));
    const auto request = make_request("77.7/x", 4, types);
    ASSERT_GT(request.size(), TcpMiss::kMaxRequest);
    const auto r = test::query(q, request);
    ASSERT_TRUE(r);
    EXPECT_EQ(decode_answer(r->message).header.response_code, 301u);
    EXPECT_EQ(resolve_stats().punt_dropped.get(), 1u);
    TcpMiss m;
    EXPECT_FALSE(queue_->misses.take(m));
}

TEST_F(TcpPuntTest, WithoutAQueueAMissIsAnsweredFromTheTable)
{
    TcpServerOptions o;
    o.listen = {test::loopback(AF_INET)};
    server_ = std::make_unique<TcpServer>(o, policy_, [this] { return table_.get(); });
    ASSERT_TRUE(server_->start().ok());
    QueryOptions q;
    q.server = server_->bound().front();
    q.tcp = true;
    const auto r = test::query(q, make_request("77.7/x", 4));
    ASSERT_TRUE(r);
    EXPECT_EQ(decode_answer(r->message).header.response_code, 301u);
    EXPECT_EQ(resolve_stats().punted.get(), 0u);
    EXPECT_EQ(resolve_stats().punt_dropped.get(), 0u);
}

} // namespace
} // namespace idpath::socket
