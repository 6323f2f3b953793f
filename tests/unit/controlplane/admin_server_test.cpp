// The admin socket's deadlines: they bound a client's reading and writing, never the command.

#include "controlplane/admin/admin_server.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "tests/unit/controlplane/test_support.hpp"

namespace idpath::admin {
namespace {

using namespace std::chrono_literals;

std::string slow_echo(std::string_view command, std::chrono::milliseconds delay)
{
    std::this_thread::sleep_for(delay);
    return "ok\n" + std::string(command) + "\n";
}

TEST(AdminServer, ReplyOfAHandlerSlowerThanTheIoDeadlineGetsThrough)
{
    test::TempDir dir;
    const std::string path = (dir / "a.sock").string();
    AdminServer server(path, [](std::string_view c) { return slow_echo(c, 600ms); }, 200);
    ASSERT_TRUE(server.start().ok());
    const auto reply = admin_request(path, "reload", 5000);
    ASSERT_TRUE(reply.ok()) << reply.error();
    EXPECT_EQ(*reply, "ok\nreload\n");
}

// The deadline as shipped (5 s) against a command that takes longer: the reply a reload of a
// large data set used to lose.
TEST(AdminServer, DefaultDeadlineDoesNotCutALongCommand)
{
    test::TempDir dir;
    const std::string path = (dir / "a.sock").string();
    AdminServer server(path, [](std::string_view c) {
        return slow_echo(c, std::chrono::milliseconds(AdminServer::kIoTimeoutMs) + 400ms);
    });
    ASSERT_TRUE(server.start().ok());
    const auto reply = admin_request(path, "snapshot save", default_timeout_ms("snapshot save"));
    ASSERT_TRUE(reply.ok()) << reply.error();
    EXPECT_EQ(*reply, "ok\nsnapshot save\n");
}

TEST(AdminServer, ClientTimeoutStillApplies)
{
    test::TempDir dir;
    const std::string path = (dir / "a.sock").string();
    AdminServer server(path, [](std::string_view c) { return slow_echo(c, 800ms); }, 200);
    ASSERT_TRUE(server.start().ok());
    const auto reply = admin_request(path, "status", 200);
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.error().find("no reply"), std::string::npos) << reply.error();
}

// A client that connects and never sends a command is dropped after the I/O deadline, so the
// next one is served.
TEST(AdminServer, SilentClientIsDroppedAfterTheIoDeadline)
{
    test::TempDir dir;
    const std::string path = (dir / "a.sock").string();
    AdminServer server(path, [](std::string_view c) { return slow_echo(c, 0ms); }, 200);
    ASSERT_TRUE(server.start().ok());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    const auto reply = admin_request(path, "ping", 3000);
    ::close(fd);
    ASSERT_TRUE(reply.ok()) << reply.error();
    EXPECT_EQ(*reply, "ok\nping\n");
}

TEST(AdminTimeouts, LongOnlyForCommandsThatLoadOrSaveData)
{
    for (const char* c : {"reload", "snapshot save /var/lib/idpath/s.snap", "snapshot", "update apply x"})
        EXPECT_EQ(default_timeout_ms(c), kLongCommandTimeoutMs) << c;
    for (const char* c : {"status", "stats", "ping", "lookup 88.100.1/abc", "reloaded", "workers"})
        EXPECT_EQ(default_timeout_ms(c), AdminServer::kIoTimeoutMs) << c;
}

} // namespace
} // namespace idpath::admin
