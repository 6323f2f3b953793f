// socket::exchange() with a cancel flag (QueryOptions::cancel): a resolver thread that is told to
// stop gives up on a silent server at once, over UDP and over TCP, with Kind::Cancelled, instead
// of waiting out a timeout far longer than any test would wait.

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "drivers/socket/client.hpp"
#include "tests/unit/socket/socket_fixture.hpp"

namespace idpath::socket {
namespace {

/// A bound socket that takes requests and never answers; its port.
struct Silent {
    explicit Silent(int type) : fd(::socket(AF_INET, type, 0))
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        if (type == SOCK_STREAM) {
            EXPECT_EQ(::listen(fd, 4), 0); // the handshake completes in the backlog, unaccepted
        }
        socklen_t len = sizeof a;
        EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
        port = ntohs(a.sin_port);
    }
    ~Silent() { ::close(fd); }
    int fd;
    std::uint16_t port = 0;
};

ClientError cancelled_exchange(bool tcp, bool cancel_first)
{
    const Silent server(tcp ? SOCK_STREAM : SOCK_DGRAM);
    std::atomic<bool> cancel{cancel_first};
    QueryOptions q;
    q.server = *parse_endpoint("127.0.0.1", server.port);
    q.tcp = tcp;
    q.timeout_ms = 600000;
    q.udp_tries = 3;
    q.cancel = &cancel;
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        cancel.store(true);
    });
    const auto r = socket::exchange(q, test::make_request("88.100.1/abc", 7));
    stopper.join();
    EXPECT_FALSE(r.ok());
    return r.ok() ? ClientError{} : r.error();
}

TEST(ClientCancel, UdpWaitEndsCancelled)
{
    const ClientError e = cancelled_exchange(false, false);
    EXPECT_EQ(e.kind, ClientError::Kind::Cancelled) << e.message;
}

TEST(ClientCancel, TcpWaitEndsCancelled)
{
    const ClientError e = cancelled_exchange(true, false);
    EXPECT_EQ(e.kind, ClientError::Kind::Cancelled) << e.message;
}

TEST(ClientCancel, AlreadyCancelledNeverWaits)
{
    EXPECT_EQ(cancelled_exchange(false, true).kind, ClientError::Kind::Cancelled);
    EXPECT_EQ(cancelled_exchange(true, true).kind, ClientError::Kind::Cancelled);
}

} // namespace
} // namespace idpath::socket
