// UdpServer over real loopback sockets, queried with the blocking client.

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "dataplane/wire/fragment.hpp"
#include "drivers/socket/udp_server.hpp"
#include "tests/unit/socket/socket_fixture.hpp"

namespace idpath::socket {
namespace {

using test::decode_answer;
using test::make_request;

class UdpServerTest : public ::testing::Test {
protected:
    /// Starts a server on `listen`; returns the first bound endpoint.
    Endpoint start(std::vector<Endpoint> listen, unsigned threads = 1)
    {
        UdpServerOptions o;
        o.listen = std::move(listen);
        o.threads_per_socket = threads;
        o.tuning.receive_buffer = 1 << 20;
        o.tuning.send_buffer = 1 << 20;
        server_ = std::make_unique<UdpServer>(o, policy_, [this] { return table_.get(); });
        const auto started = server_->start();
        EXPECT_TRUE(started.ok()) << test::error_text(started);
        return started.ok() ? server_->bound().front() : Endpoint{};
    }

    QueryOptions options(const Endpoint& server) const
    {
        QueryOptions q;
        q.server = server;
        q.timeout_ms = 1000;
        q.udp_tries = 2;
        return q;
    }

    std::uint64_t total(Counter resolve::ResolveStats::*field) const
    {
        std::uint64_t n = 0;
        for (const auto* s : server_->stats())
            n += (s->*field).get();
        return n;
    }

    resolve::Policy policy_;
    std::shared_ptr<const table::Table> table_ = test::socket_table();
    std::unique_ptr<UdpServer> server_;
};

TEST_F(UdpServerTest, AnswersInOneDatagramOverIpv4)
{
    const Endpoint ep = start({test::loopback(AF_INET)});
    ASSERT_NE(ep.port(), 0);
    const auto r = test::query(options(ep), make_request("88.100.1/abc", 0x12345678));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->datagrams, 1u);
    EXPECT_EQ(r->envelope.request_id, 0x12345678u);
    EXPECT_LE(r->bytes, wire::kMaxUdpDatagram);
    const auto a = decode_answer(r->message);
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.header.response_code, 1u);
    ASSERT_EQ(a.body.kind, wire::DecodedResponse::Kind::Resolution);
    EXPECT_EQ(a.body.resolution.handle, "88.100.1/abc");
    ASSERT_EQ(a.body.resolution.values.size(), 3u);
    EXPECT_EQ(a.body.resolution.values[0].type, "URL");
}

TEST_F(UdpServerTest, AnswersOverIpv6)
{
    if (!test::have_ipv6_loopback())
        GTEST_SKIP() << "no IPv6 loopback";
    const Endpoint ep = start({test::loopback(AF_INET6)});
    EXPECT_EQ(ep.family(), AF_INET6);
    const auto r = test::query(options(ep), make_request("88.100.1/abc", 7));
    ASSERT_TRUE(r);
    EXPECT_EQ(decode_answer(r->message).header.response_code, 1u);
}

TEST_F(UdpServerTest, ServesIpv4AndIpv6WildcardsTogether)
{
    if (!test::have_ipv6_loopback())
        GTEST_SKIP() << "no IPv6 loopback";
    // IPV6_V6ONLY lets [::] and 0.0.0.0 share a port number.
    start({*parse_endpoint("0.0.0.0:0", 0)});
    const std::uint16_t port = server_->bound().front().port();
    UdpServerOptions o;
    o.listen = {*parse_endpoint("[::]:" + std::to_string(port), 0)};
    UdpServer v6(o, policy_, [this] { return table_.get(); });
    ASSERT_TRUE(v6.start().ok());
    for (const char* addr : {"127.0.0.1", "::1"}) {
        const auto r =
            test::query(options(*parse_endpoint(addr, port)), make_request("88.100.1/abc", 9));
        ASSERT_TRUE(r) << addr;
        EXPECT_EQ(decode_answer(r->message).header.response_code, 1u) << addr;
    }
}

TEST_F(UdpServerTest, SplitsLargeAnswersInto512OctetDatagrams)
{
    const Endpoint ep = start({test::loopback(AF_INET)});
    const auto r = test::query(options(ep), make_request("88.100.1/big", 42));
    ASSERT_TRUE(r);
    EXPECT_GT(r->message.size(), wire::kMaxUdpChunk);
    EXPECT_EQ(r->datagrams, wire::datagram_count(r->message.size()));
    EXPECT_GE(r->datagrams, 5u);
    EXPECT_EQ(r->bytes, r->message.size() + r->datagrams * wire::kEnvelopeSize);
    const auto a = decode_answer(r->message);
    ASSERT_TRUE(a.ok);
    ASSERT_EQ(a.body.resolution.values.size(), 10u);
    EXPECT_EQ(a.body.resolution.values[9].data.size(),
              std::string("https://example.org/").size() + 200);
    EXPECT_EQ(total(&resolve::ResolveStats::datagrams_out), r->datagrams);
}

TEST_F(UdpServerTest, TooLargeForUdpIsAnErrorNotAFlood)
{
    const Endpoint ep = start({test::loopback(AF_INET)});
    const auto r = test::query(options(ep), make_request("88.100.1/huge", 43));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->datagrams, 1u);
    const auto a = decode_answer(r->message);
    ASSERT_TRUE(a.ok);
    EXPECT_NE(a.header.response_code, 1u);
    EXPECT_EQ(total(&resolve::ResolveStats::oversize_for_udp), 1u);
}

TEST_F(UdpServerTest, ReassemblesMultiDatagramRequests)
{
    const Endpoint ep = start({test::loopback(AF_INET)});
    std::vector<std::string> types;
    for (int i = 0; i < 60; ++i)
        types.push_back("TYPE" + std::to_string(1000 + i));
    types.push_back("URL");
    const auto request = make_request("88.100.1/abc", 44, types);
    ASSERT_GT(request.size(), wire::kMaxUdpDatagram);
    const auto r = test::query(options(ep), request);
    ASSERT_TRUE(r);
    const auto a = decode_answer(r->message);
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.header.response_code, 1u);
    ASSERT_EQ(a.body.resolution.values.size(), 1u);
    EXPECT_EQ(a.body.resolution.values[0].type, "URL");
}

TEST_F(UdpServerTest, WildcardSocketAnswersFromTheAddressQueried)
{
    // 127.0.0.2 is ours on Linux loopback; without IP_PKTINFO the reply would leave from
    // 127.0.0.1 and the client's connected socket would drop it.
    start({*parse_endpoint("0.0.0.0:0", 0)});
    const auto ep = parse_endpoint("127.0.0.2", server_->bound().front().port());
    ASSERT_TRUE(ep);
    const auto r = test::query(options(*ep), make_request("88.100.1/abc", 45));
    ASSERT_TRUE(r);
    EXPECT_EQ(decode_answer(r->message).header.response_code, 1u);
}

TEST_F(UdpServerTest, RecursiveMissesArePuntedWithWhatTheReplyNeeds)
{
    // Recursive role: a miss with REC goes to the thread's miss ring with the client address,
    // the local address it came to and the socket; a reply sent from another thread with them
    // reaches a connected client from 127.0.0.2.
    policy_.recursive = true;
    MissRing ring(64);
    UdpServerOptions o;
    o.listen = {*parse_endpoint("0.0.0.0:0", 0)};
    o.miss_rings = {&ring};
    server_ = std::make_unique<UdpServer>(o, policy_, [this] { return table_.get(); });
    ASSERT_TRUE(server_->start().ok());
    const std::uint16_t port = server_->bound().front().port();

    const int client = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(client, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(0x7f000002);
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    const auto request = make_request("77.7/elsewhere", 99);
    ASSERT_EQ(::send(client, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));

    Miss miss;
    bool taken = false;
    for (int i = 0; i < 200 && !(taken = ring.take(miss)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(taken);
    EXPECT_EQ(miss.length, request.size());
    EXPECT_TRUE(std::equal(request.begin(), request.end(), miss.payload.begin()));
    EXPECT_GT(miss.control_length, 0u);
    EXPECT_EQ(total(&resolve::ResolveStats::punted), 1u);
    EXPECT_EQ(total(&resolve::ResolveStats::answers), 0u);

    const std::uint8_t reply[] = {'o', 'k'};
    iovec iov{const_cast<std::uint8_t*>(reply), sizeof reply};
    msghdr h{};
    h.msg_name = &miss.client;
    h.msg_namelen = miss.client_length;
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    h.msg_control = miss.control.data();
    h.msg_controllen = miss.control_length;
    ASSERT_EQ(::sendmsg(miss.fd, &h, 0), 2);
    timeval tv{1, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::uint8_t got[8];
    EXPECT_EQ(::recv(client, got, sizeof got, 0), 2); // a connected socket: only from 127.0.0.2
    ::close(client);
}

TEST_F(UdpServerTest, AFullMissRingDropsAndCounts)
{
    policy_.recursive = true;
    MissRing ring(2);
    UdpServerOptions o;
    o.listen = {test::loopback(AF_INET)};
    o.miss_rings = {&ring};
    server_ = std::make_unique<UdpServer>(o, policy_, [this] { return table_.get(); });
    ASSERT_TRUE(server_->start().ok());
    const int client = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(client, 0);
    const Endpoint ep = server_->bound().front();
    for (std::uint32_t i = 0; i < 5; ++i) {
        const auto request = make_request("77.7/x" + std::to_string(i), i + 1);
        ASSERT_EQ(::sendto(client, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&ep.storage),
                           ep.length),
                  static_cast<ssize_t>(request.size()));
    }
    for (int i = 0; i < 200 && (total(&resolve::ResolveStats::punted) < 5 ||
                                total(&resolve::ResolveStats::punt_dropped) < 3); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(total(&resolve::ResolveStats::punted), 5u); // decided; the ring took two
    EXPECT_EQ(total(&resolve::ResolveStats::punt_dropped), 3u);
    Miss miss;
    EXPECT_TRUE(ring.take(miss));
    EXPECT_TRUE(ring.take(miss));
    EXPECT_FALSE(ring.take(miss));
    ::close(client);
}

TEST_F(UdpServerTest, SeveralThreadsShareOnePort)
{
    start({test::loopback(AF_INET)}, 3);
    EXPECT_EQ(server_->stats().size(), 3u);
    ASSERT_EQ(server_->bound().size(), 1u);
    const Endpoint ep = server_->bound().front();
    for (std::uint32_t i = 0; i < 30; ++i) {
        const auto r = test::query(options(ep), make_request("88.100.1/abc", 100 + i));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->envelope.request_id, 100 + i);
    }
    EXPECT_EQ(total(&resolve::ResolveStats::answers), 30u);
}

TEST_F(UdpServerTest, GarbageIsDroppedAndCountedAndServiceContinues)
{
    const Endpoint ep = start({test::loopback(AF_INET)});
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    const std::uint8_t junk[7] = {1, 2, 3, 4, 5, 6, 7};
    ASSERT_EQ(::sendto(fd, junk, sizeof junk, 0, ep.addr(), ep.length), 7);
    ::close(fd);
    const auto r = test::query(options(ep), make_request("88.100.1/abc", 46));
    ASSERT_TRUE(r);
    EXPECT_GE(total(&resolve::ResolveStats::requests), 2u);
    EXPECT_EQ(total(&resolve::ResolveStats::answers), 1u);
    EXPECT_EQ(total(&resolve::ResolveStats::malformed), 1u);
}

TEST_F(UdpServerTest, ServesAnEmptyTableWhenTheSourceHasNone)
{
    UdpServerOptions o;
    o.listen = {test::loopback(AF_INET)};
    UdpServer s(o, policy_, [] { return static_cast<const table::Table*>(nullptr); });
    ASSERT_TRUE(s.start().ok());
    const auto r = test::query(options(s.bound().front()), make_request("88.100.1/abc", 47));
    ASSERT_TRUE(r);
    EXPECT_NE(decode_answer(r->message).header.response_code, 1u);
}

TEST_F(UdpServerTest, StopIsPromptAndIdempotent)
{
    const Endpoint ep = start({test::loopback(AF_INET), test::loopback(AF_INET)}, 2);
    EXPECT_EQ(server_->bound().size(), 2u);
    const auto t0 = std::chrono::steady_clock::now();
    server_->stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::milliseconds(400));
    server_->stop();
    // Closed sockets: the client hears "port unreachable" (or times out), never an answer.
    QueryOptions q = options(ep);
    q.timeout_ms = 100;
    q.udp_tries = 1;
    EXPECT_FALSE(socket::exchange(q, make_request("88.100.1/abc", 48)).ok());
}

TEST_F(UdpServerTest, BindErrorsNameTheEndpoint)
{
    UdpServerOptions o;
    o.listen = {*parse_endpoint("192.0.2.1:0", 0)}; // TEST-NET-1: not an address of this host
    UdpServer s(o, policy_, [this] { return table_.get(); });
    const auto r = s.start();
    ASSERT_FALSE(r.ok());
    const std::string text = test::error_text(r);
    EXPECT_NE(text.find("bind 192.0.2.1:0/udp"), std::string::npos) << text;
    EXPECT_NE(text.find("errno"), std::string::npos) << text;
    EXPECT_TRUE(s.stats().empty());
}

} // namespace
} // namespace idpath::socket
