// TcpServer over real loopback connections: framing, pipelining and the hostile-client bounds.

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "dataplane/wire/fragment.hpp"
#include "drivers/socket/tcp_server.hpp"
#include "tests/unit/socket/socket_fixture.hpp"

namespace idpath::socket {
namespace {

using test::decode_answer;
using test::eventually;
using test::make_request;
using namespace std::chrono_literals;


/// True when the server closes `fd` (EOF or reset) within `ms`; data before that is discarded.
bool closed_within(int fd, int ms)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::uint8_t buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
    }
}

/// An envelope announcing `message_length` octets, version 2.11.
std::vector<std::uint8_t> envelope_only(std::uint32_t message_length, std::uint32_t id = 1)
{
    std::vector<std::uint8_t> e(wire::kEnvelopeSize, 0);
    e[0] = 2;
    e[1] = 11;
    store_be32(e.data() + 8, id);
    store_be32(e.data() + 16, message_length);
    return e;
}

class TcpServerTest : public ::testing::Test {
protected:
    Endpoint start(TcpServerOptions o = {})
    {
        if (o.listen.empty())
            o.listen = {test::loopback(AF_INET)};
        server_ = std::make_unique<TcpServer>(o, policy_, [this] { return table_.get(); });
        const auto started = server_->start();
        EXPECT_TRUE(started.ok()) << test::error_text(started);
        return started.ok() ? server_->bound().front() : Endpoint{};
    }

    static QueryOptions options(const Endpoint& server)
    {
        QueryOptions q;
        q.server = server;
        q.tcp = true;
        q.timeout_ms = 2000;
        return q;
    }

    const TcpStats& stats() const { return server_->tcp_stats(); }

    resolve::Policy policy_;
    std::shared_ptr<const table::Table> table_ = test::socket_table();
    std::unique_ptr<TcpServer> server_;
};

TEST_F(TcpServerTest, AnswersOverIpv4)
{
    const Endpoint ep = start();
    const auto r = test::query(options(ep), make_request("88.100.1/abc", 0x12345678));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->datagrams, 1u);
    EXPECT_EQ(r->envelope.request_id, 0x12345678u);
    const auto a = decode_answer(r->message);
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.header.response_code, 1u);
    EXPECT_EQ(a.body.resolution.values.size(), 3u);
    EXPECT_TRUE(
        eventually([&] { return stats().accepted.get() == 1 && stats().requests.get() == 1; }));
}

TEST_F(TcpServerTest, AnswersOverIpv6)
{
    if (!test::have_ipv6_loopback())
        GTEST_SKIP() << "no IPv6 loopback";
    TcpServerOptions o;
    o.listen = {test::loopback(AF_INET6)};
    const Endpoint ep = start(o);
    EXPECT_EQ(ep.family(), AF_INET6);
    const auto r = test::query(options(ep), make_request("88.100.1/abc", 2));
    ASSERT_TRUE(r);
    EXPECT_EQ(decode_answer(r->message).header.response_code, 1u);
}

TEST_F(TcpServerTest, LargeAnswersComeWholeInOneFrame)
{
    const Endpoint ep = start();
    const auto r = test::query(options(ep), make_request("88.100.1/huge", 3));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->datagrams, 1u);
    EXPECT_GT(r->message.size(), 8 * wire::kMaxUdpChunk);
    const auto a = decode_answer(r->message);
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.header.response_code, 1u);
    EXPECT_EQ(a.body.resolution.values.size(), 20u);
}

TEST_F(TcpServerTest, PipelinedRequestsOnOneConnection)
{
    const Endpoint ep = start();
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok()) << test::error_text(conn);
    std::vector<std::uint8_t> burst;
    for (std::uint32_t id = 10; id < 15; ++id) {
        const auto req = make_request(id % 2 ? "88.100.1/abc" : "88.100.1/big", id);
        burst.insert(burst.end(), req.begin(), req.end());
    }
    ASSERT_TRUE(conn->send(burst, 2000).ok());
    for (std::uint32_t id = 10; id < 15; ++id) {
        const auto r = conn->receive(id, 2000);
        ASSERT_TRUE(r.ok()) << test::error_text(r);
        EXPECT_EQ(r->envelope.request_id, id);
        EXPECT_EQ(decode_answer(r->message).header.response_code, 1u);
    }
    // Then more on the same connection.
    ASSERT_TRUE(conn->send(make_request("88.100.1/abc", 99), 2000).ok());
    EXPECT_TRUE(conn->receive(99, 2000).ok());
    EXPECT_TRUE(eventually([&] { return stats().requests.get() == 6; }));
    EXPECT_EQ(stats().accepted.get(), 1u);
}

TEST_F(TcpServerTest, MessageLengthAboveTheLimitCloses)
{
    TcpServerOptions o;
    o.max_message = 4096;
    const Endpoint ep = start(o);
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn->send(envelope_only(4097), 2000).ok());
    const auto r = conn->receive(1, 2000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_kind(r), ClientError::Kind::Network);
    EXPECT_TRUE(eventually([&] { return stats().closed_oversize.get() == 1; }));
}

TEST_F(TcpServerTest, MessageLengthBelowAHeaderCloses)
{
    const Endpoint ep = start();
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn->send(envelope_only(23), 2000).ok());
    EXPECT_TRUE(closed_within(conn->fd(), 2000));
    EXPECT_TRUE(eventually([&] { return stats().closed_malformed.get() == 1; }));
}

TEST_F(TcpServerTest, IdleConnectionsBeyondTheLimitDoNotLockOutAFreshClient)
{
    TcpServerOptions o;
    o.max_connections = 8;
    const Endpoint ep = start(o);
    std::vector<TcpConnection> idle;
    for (int i = 0; i < 24; ++i) {
        auto c = TcpConnection::open(ep, 2000);
        ASSERT_TRUE(c.ok());
        idle.push_back(std::move(c.value()));
    }
    ASSERT_TRUE(eventually([&] { return stats().accepted.get() == 24; }));
    const auto r = test::query(options(ep), make_request("88.100.1/abc", 5));
    ASSERT_TRUE(r);
    EXPECT_EQ(decode_answer(r->message).header.response_code, 1u);
    EXPECT_GE(stats().closed_limit.get(), 24u + 1u - 8u);
    EXPECT_LE(stats().open(), 8u);
}

TEST_F(TcpServerTest, ATricklingPartialFrameIsClosedAfterTheIdleTimeout)
{
    TcpServerOptions o;
    o.idle_timeout_ms = 300;
    const Endpoint ep = start(o);
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok());
    const auto request = make_request("88.100.1/abc", 6);
    const auto t0 = std::chrono::steady_clock::now();
    bool closed = false;
    // One octet every 50 ms: the frame would take 4 s to complete.
    for (std::size_t i = 0; i < request.size() && !closed; ++i) {
        if (::send(conn->fd(), request.data() + i, 1, MSG_NOSIGNAL) != 1)
            break;
        closed = closed_within(conn->fd(), 50);
    }
    closed = closed || closed_within(conn->fd(), 1000);
    EXPECT_TRUE(closed);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
    EXPECT_TRUE(eventually([&] { return stats().closed_idle.get() == 1; }));
    EXPECT_EQ(stats().requests.get(), 0u);
}

TEST_F(TcpServerTest, AnActiveConnectionOutlivesTheIdleTimeout)
{
    TcpServerOptions o;
    o.idle_timeout_ms = 600;
    const Endpoint ep = start(o);
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok());
    for (std::uint32_t id = 1; id <= 5; ++id) {
        ASSERT_TRUE(conn->send(make_request("88.100.1/abc", id), 2000).ok());
        ASSERT_TRUE(conn->receive(id, 2000).ok()) << id;
        std::this_thread::sleep_for(200ms); // 1 s in all: longer than the timeout
    }
    EXPECT_EQ(stats().closed_idle.get(), 0u);
    EXPECT_TRUE(closed_within(conn->fd(), 2000)); // and once quiet, it goes
}

TEST_F(TcpServerTest, AClientThatDoesNotReadDoesNotBlockOthers)
{
    const Endpoint ep = start();
    auto hog = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(hog.ok());
    // Up to 4000 answers of 6 KB, never read: far beyond what socket buffers hold.
    constexpr std::uint32_t kRequests = 4000;
    std::vector<std::uint8_t> burst;
    for (std::uint32_t id = 1; id <= kRequests; ++id) {
        const auto req = make_request("88.100.1/huge", id);
        burst.insert(burst.end(), req.begin(), req.end());
    }
    std::size_t sent = 0;
    while (sent < burst.size()) {
        const ssize_t n = ::send(hog->fd(), burst.data() + sent, burst.size() - sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            break; // the server stopped reading from us: that is the point
        sent += static_cast<std::size_t>(n);
    }
    ASSERT_TRUE(eventually([&] { return stats().output_stalls.get() >= 1; }));
    for (std::uint32_t id = 10000; id < 10005; ++id) {
        const auto r = test::query(options(ep), make_request("88.100.1/abc", id));
        ASSERT_TRUE(r);
    }
    EXPECT_LT(stats().requests.get(), kRequests + 5u);
}

TEST_F(TcpServerTest, HalfClosedClientStillGetsItsAnswer)
{
    const Endpoint ep = start();
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn->send(make_request("88.100.1/abc", 8), 2000).ok());
    ASSERT_EQ(::shutdown(conn->fd(), SHUT_WR), 0);
    const auto r = conn->receive(8, 2000);
    ASSERT_TRUE(r.ok()) << test::error_text(r);
    EXPECT_TRUE(closed_within(conn->fd(), 2000));
    EXPECT_TRUE(eventually([&] { return stats().closed_by_peer.get() == 1; }));
}

TEST_F(TcpServerTest, ReassemblesMultiEnvelopeMessagesWithTc)
{
    const Endpoint ep = start();
    std::vector<std::string> types;
    for (int i = 0; i < 60; ++i)
        types.push_back("TYPE" + std::to_string(1000 + i));
    types.push_back("EMAIL");
    const auto request = make_request("88.100.1/abc", 9, types);
    const ByteSpan message = ByteSpan(request).subspan(wire::kEnvelopeSize);
    const std::uint32_t count = wire::datagram_count(message.size());
    ASSERT_GT(count, 1u);
    std::vector<std::uint8_t> frames;
    const std::span<const std::uint8_t, wire::kEnvelopeSize> base(request.data(),
                                                                  wire::kEnvelopeSize);
    for (std::uint32_t k = 0; k < count; ++k) {
        std::array<std::uint8_t, wire::kEnvelopeSize> env;
        wire::fragment_envelope(base, k, count, env);
        const ByteSpan chunk = wire::fragment_payload(message, k);
        frames.insert(frames.end(), env.begin(), env.end());
        frames.insert(frames.end(), chunk.begin(), chunk.end());
    }
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn->send(frames, 2000).ok());
    const auto r = conn->receive(9, 2000);
    ASSERT_TRUE(r.ok()) << test::error_text(r);
    const auto a = decode_answer(r->message);
    ASSERT_TRUE(a.ok);
    ASSERT_EQ(a.body.resolution.values.size(), 1u);
    EXPECT_EQ(a.body.resolution.values[0].type, "EMAIL");
    EXPECT_EQ(stats().chunks.get(), count);
}

TEST_F(TcpServerTest, StopIsPromptAndClosesConnections)
{
    const Endpoint ep = start();
    auto conn = TcpConnection::open(ep, 2000);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(eventually([&] { return stats().accepted.get() == 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    server_->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 400ms);
    EXPECT_TRUE(closed_within(conn->fd(), 1000));
    EXPECT_EQ(stats().closed_shutdown.get(), 1u);
    server_->stop();
    EXPECT_FALSE(TcpConnection::open(ep, 500).ok()); // the listener went with it
}

} // namespace
} // namespace idpath::socket
