// TcpFramer: cutting a byte stream into Handle frames, however the bytes arrive.

#include <cstring>

#include <gtest/gtest.h>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/fragment.hpp"
#include "drivers/socket/tcp_framer.hpp"
#include "tests/unit/socket/socket_fixture.hpp"

namespace idpath::socket {
namespace {

/// Feeds `bytes` in pieces of `step` octets; returns each complete frame's payload size.
std::vector<std::size_t> feed(TcpFramer& f, ByteSpan bytes, std::size_t step,
                              TcpFramer::Status& last)
{
    std::vector<std::size_t> frames;
    last = TcpFramer::Status::NeedMore;
    std::size_t at = 0;
    while (at < bytes.size()) {
        const MutableByteSpan space = f.space();
        const std::size_t n = std::min({step, space.size(), bytes.size() - at});
        std::memcpy(space.data(), bytes.data() + at, n);
        f.commit(n);
        at += n;
        while ((last = f.next()) == TcpFramer::Status::Frame) {
            frames.push_back(f.payload().size());
            f.pop();
        }
        if (last != TcpFramer::Status::NeedMore)
            break;
    }
    return frames;
}

std::vector<std::uint8_t> envelope(std::uint32_t message_length, std::uint8_t major = 2)
{
    std::vector<std::uint8_t> e(wire::kEnvelopeSize, 0);
    e[0] = major;
    e[1] = 11;
    store_be32(e.data() + 16, message_length);
    return e;
}

TEST(TcpFramer, OneOctetAtATime)
{
    const auto req = test::make_request("88.100.1/abc", 1);
    TcpFramer f(wire::kMaxMessageLength);
    EXPECT_EQ(f.capacity(), 0u); // nothing until the first read
    TcpFramer::Status last;
    const auto frames = feed(f, req, 1, last);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], req.size() - wire::kEnvelopeSize);
    EXPECT_EQ(last, TcpFramer::Status::NeedMore);
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(TcpFramer, SeveralFramesInOneRead)
{
    std::vector<std::uint8_t> stream;
    for (std::uint32_t id = 0; id < 5; ++id) {
        const auto r = test::make_request("88.100.1/abc" + std::to_string(id), id);
        stream.insert(stream.end(), r.begin(), r.end());
    }
    TcpFramer f(wire::kMaxMessageLength);
    TcpFramer::Status last;
    EXPECT_EQ(feed(f, stream, stream.size(), last).size(), 5u);
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(TcpFramer, ALargeFrameGetsItsOwnBufferAndGivesItBack)
{
    std::vector<std::uint8_t> frame = envelope(100000);
    frame.resize(wire::kEnvelopeSize + 100000, 0x42);
    TcpFramer f(wire::kMaxMessageLength);
    TcpFramer::Status last;
    std::size_t biggest = 0;
    std::size_t at = 0;
    while (at < frame.size()) {
        const MutableByteSpan space = f.space();
        biggest = std::max(biggest, f.capacity());
        const std::size_t n = std::min<std::size_t>(space.size(), frame.size() - at);
        std::memcpy(space.data(), frame.data() + at, n);
        f.commit(n);
        at += n;
        last = f.next();
    }
    ASSERT_EQ(last, TcpFramer::Status::Frame);
    EXPECT_EQ(f.payload().size(), 100000u);
    EXPECT_EQ(biggest, frame.size()); // exactly one frame, no more
    f.pop();
    EXPECT_EQ(f.capacity(), 0u);
}

TEST(TcpFramer, LengthsOutsideTheLimitsAreFinal)
{
    TcpFramer::Status last;
    TcpFramer small(1000);
    feed(small, envelope(1001), 20, last);
    EXPECT_EQ(last, TcpFramer::Status::TooLarge);
    TcpFramer huge(wire::kMaxMessageLength);
    feed(huge, envelope(wire::kMaxMessageLength + 1), 20, last);
    EXPECT_EQ(last, TcpFramer::Status::TooLarge);
    TcpFramer tiny(wire::kMaxMessageLength);
    feed(tiny, envelope(23), 20, last);
    EXPECT_EQ(last, TcpFramer::Status::Malformed);
    TcpFramer version(wire::kMaxMessageLength);
    feed(version, envelope(100, 9), 20, last);
    EXPECT_EQ(last, TcpFramer::Status::Malformed);
}

TEST(TcpFramer, TcChunksAreFramedByTheirSequenceNumber)
{
    wire::Envelope e;
    e.flags = wire::envflag::kTruncated;
    e.message_length = 1000; // chunks of 492, 492, 16
    e.sequence = 0;
    EXPECT_EQ(TcpFramer::payload_length(e), 492u);
    e.sequence = 2;
    EXPECT_EQ(TcpFramer::payload_length(e), 16u);
    e.sequence = 3;
    EXPECT_EQ(TcpFramer::payload_length(e), 0u);
    e.flags = 0; // without TC, a TCP frame carries the whole message (HANDLE.NET)
    EXPECT_EQ(TcpFramer::payload_length(e), 1000u);
    e.flags = wire::envflag::kTruncated;
    e.message_length = 300; // TC on a short message: whole
    e.sequence = 0;
    EXPECT_EQ(TcpFramer::payload_length(e), 300u);
}

} // namespace
} // namespace idpath::socket
