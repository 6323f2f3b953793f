#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "controlplane/crypto/byte_stream.hpp"

namespace idpath::crypto {
namespace {

struct Pair {
    Pair()
    {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw std::runtime_error("socketpair");
        a = plain_stream(sv[0]);
        b = plain_stream(sv[1]);
    }
    std::unique_ptr<ByteStream> a, b;
};

TEST(PlainStream, CarriesBytesBothWays)
{
    Pair p;
    const std::string hello = "hello";
    ASSERT_TRUE(p.a->write_all(as_bytes(hello), 1000));
    std::uint8_t buf[5];
    ASSERT_TRUE(p.b->read_exact(buf, 1000));
    EXPECT_EQ(as_string_view(ByteSpan(buf, 5)), "hello");
    ASSERT_TRUE(p.b->write_all(as_bytes(std::string_view("x")), 1000));
    auto n = p.a->read_some(buf, 1000);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1u);
    EXPECT_GE(p.a->fd(), 0);
}

TEST(PlainStream, ReadTimesOut)
{
    Pair p;
    std::uint8_t buf[4];
    const auto start = std::chrono::steady_clock::now();
    auto n = p.a->read_some(buf, 100);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), "timeout");
    EXPECT_GE(took, std::chrono::milliseconds(90));
    EXPECT_LT(took, std::chrono::milliseconds(2000));
    auto e = p.a->read_exact(buf, 50);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "timeout");
}

TEST(PlainStream, WriteTimesOutWhenThePeerDoesNotRead)
{
    Pair p;
    std::vector<std::uint8_t> big(8 << 20, 0x55);
    auto w = p.a->write_all(big, 100);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), "timeout");
}

TEST(PlainStream, OrderlyEndAndShortRead)
{
    Pair p;
    const std::string three = "abc";
    ASSERT_TRUE(p.a->write_all(as_bytes(three), 1000));
    p.a->close();
    p.a->close(); // idempotent
    std::uint8_t buf[5];
    auto e = p.b->read_exact(buf, 1000);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), "closed after 3 of 5 octets");
    auto n = p.b->read_some(buf, 1000);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
}

TEST(PlainStream, ReadExactGathersPieces)
{
    Pair p;
    std::thread writer([&] {
        for (const char* piece : {"ab", "cd", "e"}) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            (void)p.a->write_all(as_bytes(std::string_view(piece)), 1000);
        }
    });
    std::uint8_t buf[5];
    auto r = p.b->read_exact(buf, 2000);
    writer.join();
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(as_string_view(ByteSpan(buf, 5)), "abcde");
}

TEST(PlainStream, WriteToAGonePeerIsResetNotSigpipe)
{
    Pair p;
    p.b.reset();
    const std::string s = "data";
    auto w = p.a->write_all(as_bytes(s), 1000);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), "reset");
}

} // namespace
} // namespace idpath::crypto
