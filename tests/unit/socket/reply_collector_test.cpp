// ReplyCollector: putting a multi-datagram reply back together on the client side.

#include <algorithm>

#include <gtest/gtest.h>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/fragment.hpp"
#include "drivers/socket/reply_collector.hpp"

namespace idpath::socket {
namespace {

/// The datagrams of a `length`-octet message with RequestId `id` (octet i = i mod 251).
std::vector<std::vector<std::uint8_t>> datagrams(std::size_t length, std::uint32_t id)
{
    std::vector<std::uint8_t> message(length);
    for (std::size_t i = 0; i < length; ++i)
        message[i] = static_cast<std::uint8_t>(i % 251);
    wire::Envelope e;
    e.request_id = id;
    e.message_length = static_cast<std::uint32_t>(length);
    std::array<std::uint8_t, wire::kEnvelopeSize> base;
    wire::encode_envelope(e, base);
    const std::uint32_t count = wire::datagram_count(length);
    std::vector<std::vector<std::uint8_t>> out;
    for (std::uint32_t k = 0; k < count; ++k) {
        std::vector<std::uint8_t> d(wire::kEnvelopeSize);
        wire::fragment_envelope(
            base, k, count,
            std::span<std::uint8_t, wire::kEnvelopeSize>(d.data(), wire::kEnvelopeSize));
        const ByteSpan chunk = wire::fragment_payload(message, k);
        d.insert(d.end(), chunk.begin(), chunk.end());
        out.push_back(std::move(d));
    }
    return out;
}

bool is_pattern(const std::vector<std::uint8_t>& m)
{
    for (std::size_t i = 0; i < m.size(); ++i)
        if (m[i] != i % 251)
            return false;
    return true;
}

TEST(ReplyCollector, OneDatagram)
{
    const auto d = datagrams(100, 7);
    ReplyCollector c(7);
    EXPECT_EQ(c.add(d[0]), ReplyCollector::Status::Complete);
    EXPECT_EQ(c.message().size(), 100u);
    EXPECT_TRUE(is_pattern(c.message()));
    EXPECT_EQ(c.datagrams(), 1u);
    EXPECT_EQ(c.bytes(), 120u);
}

TEST(ReplyCollector, OutOfOrderWithDuplicatesAndStrangers)
{
    auto d = datagrams(2000, 7); // 5 datagrams
    ASSERT_EQ(d.size(), 5u);
    std::reverse(d.begin(), d.end());
    ReplyCollector c(7);
    const auto other = datagrams(2000, 8);
    EXPECT_EQ(c.add(other[0]), ReplyCollector::Status::Ignored);
    EXPECT_EQ(c.add(d[0]), ReplyCollector::Status::Incomplete);
    EXPECT_EQ(c.add(d[0]), ReplyCollector::Status::Ignored); // duplicate
    EXPECT_EQ(c.add(d[1]), ReplyCollector::Status::Incomplete);
    EXPECT_EQ(c.add(d[2]), ReplyCollector::Status::Incomplete);
    EXPECT_EQ(c.add(d[3]), ReplyCollector::Status::Incomplete);
    EXPECT_EQ(c.add(d[4]), ReplyCollector::Status::Complete);
    EXPECT_TRUE(is_pattern(c.message()));
    EXPECT_EQ(c.datagrams(), 5u);
    EXPECT_EQ(c.bytes(), 2000u + 5 * wire::kEnvelopeSize);
    EXPECT_EQ(c.envelope().sequence, 0u);
    EXPECT_EQ(c.add(d[4]), ReplyCollector::Status::Ignored); // after completion
}

TEST(ReplyCollector, OneOversizedDatagramHoldingTheWholeMessage)
{
    std::vector<std::uint8_t> d(wire::kEnvelopeSize + 3000);
    wire::Envelope e;
    e.request_id = 1;
    e.message_length = 3000;
    wire::encode_envelope(
        e, std::span<std::uint8_t, wire::kEnvelopeSize>(d.data(), wire::kEnvelopeSize));
    ReplyCollector c(1);
    EXPECT_EQ(c.add(d), ReplyCollector::Status::Complete);
    EXPECT_EQ(c.message().size(), 3000u);
}

TEST(ReplyCollector, ChunksThatDisagreeAreIgnored)
{
    const auto d = datagrams(2000, 7);
    ReplyCollector c(7);
    ASSERT_EQ(c.add(d[0]), ReplyCollector::Status::Incomplete);
    // Same sequence slot, but claiming another MessageLength.
    const auto other = datagrams(1900, 7);
    EXPECT_EQ(c.add(other[1]), ReplyCollector::Status::Ignored);
    // A chunk cut short.
    std::vector<std::uint8_t> cut = d[1];
    cut.resize(cut.size() - 1);
    EXPECT_EQ(c.add(cut), ReplyCollector::Status::Ignored);
    // Too short for an envelope, and garbage.
    EXPECT_EQ(c.add(ByteSpan(d[1]).first(10)), ReplyCollector::Status::Ignored);
    EXPECT_FALSE(c.complete());
}

} // namespace
} // namespace idpath::socket
