#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/fragment.hpp"
#include "dataplane/wire/message.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Bytes;

TEST(Fragment, DatagramCount)
{
    EXPECT_EQ(datagram_count(0), 1u);
    EXPECT_EQ(datagram_count(1), 1u);
    EXPECT_EQ(datagram_count(492), 1u);
    EXPECT_EQ(datagram_count(493), 2u);
    EXPECT_EQ(datagram_count(984), 2u);
    EXPECT_EQ(datagram_count(985), 3u);
    EXPECT_EQ(datagram_count(kMaxMessageLength), 533u);
}

TEST(Fragment, PayloadsCoverTheMessageInOrder)
{
    Bytes m(1000);
    for (std::size_t i = 0; i < m.size(); ++i)
        m[i] = static_cast<std::uint8_t>(i * 7);
    const ByteSpan all(m);
    EXPECT_EQ(fragment_payload(all, 0).data(), m.data());
    EXPECT_EQ(fragment_payload(all, 0).size(), 492u);
    EXPECT_EQ(fragment_payload(all, 1).data(), m.data() + 492);
    EXPECT_EQ(fragment_payload(all, 1).size(), 492u);
    EXPECT_EQ(fragment_payload(all, 2).data(), m.data() + 984);
    EXPECT_EQ(fragment_payload(all, 2).size(), 16u);
    EXPECT_TRUE(fragment_payload(all, 3).empty());
    EXPECT_TRUE(fragment_payload(all, 0xffffffff).empty());
    const Bytes small(10, 1);
    EXPECT_EQ(fragment_payload(ByteSpan(small), 0).size(), 10u);
}

TEST(Fragment, EnvelopeGetsSequenceAndTc)
{
    Envelope base;
    base.request_id = 0x01020304;
    base.message_length = 1000;
    base.suggested_major = 2;
    base.suggested_minor = 11;
    std::array<std::uint8_t, kEnvelopeSize> enc{};
    encode_envelope(base, enc);
    const auto copy = enc;

    std::array<std::uint8_t, kEnvelopeSize> out{};
    fragment_envelope(enc, 2, 3, out);
    EXPECT_EQ(enc, copy);
    auto e = decode_envelope(out);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->sequence, 2u);
    EXPECT_TRUE(e->truncated());
    EXPECT_EQ(e->suggested_major, 2);
    EXPECT_EQ(e->request_id, 0x01020304u);
    EXPECT_EQ(e->message_length, 1000u);

    fragment_envelope(enc, 0, 1, out);
    e = decode_envelope(out);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->sequence, 0u);
    EXPECT_FALSE(e->truncated());
    EXPECT_EQ(out, copy);
}

TEST(Fragment, SplitDatagramsDecodeAndRejoin)
{
    // A 1500-octet body makes a 1528-octet message: four datagrams.
    std::vector<std::uint8_t> buf(kEnvelopeSize + 2000);
    MessageWriter w(buf);
    for (std::uint32_t i = 0; i < 1500; ++i)
        w.body().u8(static_cast<std::uint8_t>(i));
    Envelope env;
    env.request_id = 9;
    const std::size_t n = w.finish(env, Header{});
    ASSERT_EQ(n, kEnvelopeSize + 1528);
    const ByteSpan message(buf.data() + kEnvelopeSize, n - kEnvelopeSize);
    const std::uint32_t count = datagram_count(message.size());
    ASSERT_EQ(count, 4u);

    Bytes rejoined;
    for (std::uint32_t k = 0; k < count; ++k) {
        Bytes dgram(kEnvelopeSize);
        const std::span<const std::uint8_t, kEnvelopeSize> base(buf.data(), kEnvelopeSize);
        fragment_envelope(base, k, count,
                          std::span<std::uint8_t, kEnvelopeSize>(dgram.data(), kEnvelopeSize));
        const ByteSpan chunk = fragment_payload(message, k);
        dgram.insert(dgram.end(), chunk.begin(), chunk.end());
        EXPECT_LE(dgram.size(), kMaxUdpDatagram);
        auto f = decode_frame(ByteSpan(dgram));
        ASSERT_TRUE(f.ok()) << k;
        EXPECT_EQ(f->envelope.sequence, k);
        EXPECT_TRUE(f->envelope.multi_datagram());
        rejoined.insert(rejoined.end(), f->payload.begin(), f->payload.end());
    }
    ASSERT_EQ(rejoined.size(), message.size());
    EXPECT_TRUE(std::equal(rejoined.begin(), rejoined.end(), message.begin()));
    auto m = decode_message(ByteSpan(rejoined));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->body.size(), 1500u);
}

} // namespace
} // namespace idpath::wire
