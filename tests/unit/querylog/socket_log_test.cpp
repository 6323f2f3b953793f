// The kernel-socket transports' side of the log mirror, over real loopback sockets: each request
// gets one record in the serving thread's ring, with both ends as the sockets saw them.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/querylog/query_log.hpp"
#include "drivers/socket/tcp_server.hpp"
#include "drivers/socket/udp_server.hpp"
#include "drivers/socket/unique_fd.hpp"
#include "tests/unit/socket/socket_fixture.hpp"

namespace idpath::querylog {
namespace {

using socket::Endpoint;
using socket::UniqueFd;

/// Waits (up to 2 s) for at least `n` records in `ring` and takes them.
std::vector<Record> take(Ring& ring, std::size_t n)
{
    std::vector<Record> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
        const auto r = ring.peek();
        out.insert(out.end(), r.first.begin(), r.first.end());
        out.insert(out.end(), r.second.begin(), r.second.end());
        ring.release(r.size());
        if (out.size() < n)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return out;
}

std::vector<Record> queries(const std::vector<Record>& records)
{
    std::vector<Record> q;
    for (const Record& r : records)
        if (r.kind == Kind::Query)
            q.push_back(r);
    return q;
}

std::array<std::uint8_t, 16> mapped_loopback()
{
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
}

/// A client socket bound to 127.0.0.1 with a kernel-chosen port; returns that port.
std::uint16_t bind_client(int fd)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    return ntohs(a.sin_port);
}

sockaddr_in to_loopback(std::uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

class SocketLogTest : public ::testing::TestWithParam<const char*> {
protected:
    resolve::Policy policy_;
    std::shared_ptr<const table::Table> table_ = idpath::test::socket_table();
    Ring ring_{64};
};

// 127.0.0.1 (the socket's own address) and 0.0.0.0 (IP_PKTINFO tells the destination).
TEST_P(SocketLogTest, UdpRecordsEachRequestWithBothEnds)
{
    socket::UdpServerOptions o;
    o.listen = {*socket::parse_endpoint(GetParam(), 0)};
    o.query_logs = {Target{&ring_, 21}};
    socket::UdpServer server(o, policy_, [this] { return table_.get(); });
    ASSERT_TRUE(server.start().ok());
    const std::uint16_t server_port = server.bound().front().port();

    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const std::uint16_t client_port = bind_client(fd.get());
    const sockaddr_in to = to_loopback(server_port);
    const auto request = idpath::test::make_request("88.100.1/abc", 7);
    const std::vector<std::uint8_t> junk(5, 0);
    for (const auto* p : {&request, &junk})
        ASSERT_EQ(::sendto(fd.get(), p->data(), p->size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to),
                  static_cast<ssize_t>(p->size()));
    std::uint8_t reply[2048];
    timeval tv{2, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_GT(::recv(fd.get(), reply, sizeof reply, 0), 0);

    const auto q = queries(take(ring_, 3)); // the first heartbeat and the two requests
    ASSERT_EQ(q.size(), 2u);
    EXPECT_EQ(q[0].source, 21u);
    EXPECT_EQ(q[0].transport, Transport::Udp);
    EXPECT_EQ(q[0].family, 4u);
    EXPECT_EQ(q[0].client_port, client_port);
    EXPECT_EQ(q[0].server_port, server_port);
    EXPECT_EQ(0, std::memcmp(q[0].client, mapped_loopback().data(), 16));
    EXPECT_EQ(0, std::memcmp(q[0].server, mapped_loopback().data(), 16));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(q[0].handle), q[0].handle_stored), "88.100.1/abc");
    EXPECT_EQ(q[0].response_code, 1u);
    EXPECT_EQ(q[0].datagrams, 1u);
    EXPECT_EQ(q[0].request_bytes, request.size());
    EXPECT_GT(q[0].time_ns, 1'600'000'000'000'000'000ull); // wall-clock time
    EXPECT_GT(q[0].latency_ns, 0u);
    EXPECT_EQ(q[1].silence, static_cast<std::uint8_t>(resolve::Silence::BadEnvelope));
    EXPECT_EQ(q[1].client_port, client_port);
    server.stop();
    EXPECT_EQ(server.query_log_stats().size(), 1u);
    EXPECT_GE(server.query_log_stats()[0]->produced.get(), 3u);
    EXPECT_EQ(server.query_log_stats()[0]->lost.get(), 0u);
}

TEST_P(SocketLogTest, TcpRecordsEachRequestWithBothEnds)
{
    socket::TcpServerOptions o;
    o.listen = {*socket::parse_endpoint(GetParam(), 0)};
    o.query_log = Target{&ring_, 22};
    socket::TcpServer server(o, policy_, [this] { return table_.get(); });
    ASSERT_TRUE(server.start().ok());
    const std::uint16_t server_port = server.bound().front().port();

    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const std::uint16_t client_port = bind_client(fd.get());
    const sockaddr_in to = to_loopback(server_port);
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
    const auto request = idpath::test::make_request("88.100.1/big", 8);
    ASSERT_EQ(::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    std::uint8_t reply[8192];
    timeval tv{2, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_GT(::recv(fd.get(), reply, sizeof reply, 0), 0);

    const auto q = queries(take(ring_, 2));
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].source, 22u);
    EXPECT_EQ(q[0].transport, Transport::Tcp);
    EXPECT_EQ(q[0].family, 4u);
    EXPECT_EQ(q[0].client_port, client_port);
    EXPECT_EQ(q[0].server_port, server_port);
    EXPECT_EQ(0, std::memcmp(q[0].client, mapped_loopback().data(), 16));
    EXPECT_EQ(0, std::memcmp(q[0].server, mapped_loopback().data(), 16));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(q[0].handle), q[0].handle_stored), "88.100.1/big");
    EXPECT_EQ(q[0].values, 10u);
    EXPECT_EQ(q[0].datagrams, 1u);
    EXPECT_GT(q[0].response_bytes, 2000u);
    server.stop();
    EXPECT_GE(server.query_log_stats().produced.get(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Addresses, SocketLogTest, ::testing::Values("127.0.0.1:0", "0.0.0.0:0"));

TEST(SocketLogOff, ServersLogNothingByDefault)
{
    resolve::Policy policy;
    auto table = idpath::test::socket_table();
    socket::UdpServerOptions o;
    o.listen = {idpath::test::loopback(AF_INET)};
    socket::UdpServer server(o, policy, [&] { return table.get(); });
    ASSERT_TRUE(server.start().ok());
    socket::QueryOptions q;
    q.server = server.bound().front();
    q.timeout_ms = 1000;
    ASSERT_TRUE(idpath::test::query(q, idpath::test::make_request("88.100.1/abc", 1)).has_value());
    server.stop();
    EXPECT_EQ(server.query_log_stats()[0]->produced.get(), 0u);
}

} // namespace
} // namespace idpath::querylog
