#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "dataplane/wire/message.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Builder;
using test::Bytes;
using test::span;

// Header with the given body length, then the body octets 0x01..
Builder message_with_body(std::uint32_t body_length, std::uint32_t declared)
{
    Builder b;
    b.u32(1).u32(0).u32(0).u16(0).u8(0).u8(0).u32(0).u32(declared);
    for (std::uint32_t i = 0; i < body_length; ++i)
        b.u8(i + 1);
    return b;
}

TEST(DecodeMessage, SplitsHeaderBodyAndCredential)
{
    Builder b = message_with_body(5, 5);
    b.u32(3).u8(0xa).u8(0xb).u8(0xc);
    auto m = decode_message(span(b.bytes()));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.opcode, 1u);
    EXPECT_EQ(m->header.body_length, 5u);
    EXPECT_EQ(m->header_and_body.size(), 29u);
    EXPECT_EQ(m->header_and_body.data(), b.bytes().data());
    ASSERT_EQ(m->body.size(), 5u);
    EXPECT_EQ(m->body[0], 1);
    EXPECT_EQ(m->body[4], 5);
    EXPECT_TRUE(m->has_credential_length);
    EXPECT_EQ(test::to_hex(m->credential), "0a0b0c");
}

TEST(DecodeMessage, CredentialLengthZeroMeansUnsigned)
{
    Builder b = message_with_body(2, 2);
    b.u32(0);
    auto m = decode_message(span(b.bytes()));
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(m->has_credential_length);
    EXPECT_TRUE(m->credential.empty());
}

TEST(DecodeMessage, ToleratesAMissingCredentialLength)
{
    Builder b = message_with_body(2, 2);
    auto m = decode_message(span(b.bytes()));
    ASSERT_TRUE(m.ok());
    EXPECT_FALSE(m->has_credential_length);
    EXPECT_TRUE(m->credential.empty());
}

TEST(DecodeMessage, OneToThreeStrayOctetsAreTruncated)
{
    for (std::uint32_t stray = 1; stray <= 3; ++stray) {
        Builder b = message_with_body(2, 2);
        b.zeros(stray);
        auto m = decode_message(span(b.bytes()));
        ASSERT_FALSE(m.ok()) << stray;
        EXPECT_EQ(test::error_of(m), WireError::Truncated);
    }
}

TEST(DecodeMessage, BodyLengthPastTheEndIsRejected)
{
    Builder b = message_with_body(2, 3);
    auto m = decode_message(span(b.bytes()));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(test::error_of(m), WireError::BodyLengthMismatch);
    Builder huge = message_with_body(2, 0xffffffff);
    m = decode_message(span(huge.bytes()));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(test::error_of(m), WireError::BodyLengthMismatch);
}

TEST(DecodeMessage, CredentialLengthMustFitExactly)
{
    Builder longer = message_with_body(2, 2);
    longer.u32(4).u8(1).u8(2).u8(3);
    auto m = decode_message(span(longer.bytes()));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(test::error_of(m), WireError::Truncated);

    Builder huge = message_with_body(2, 2);
    huge.u32(0xffffffff).u8(1);
    m = decode_message(span(huge.bytes()));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(test::error_of(m), WireError::Truncated);

    Builder shorter = message_with_body(2, 2);
    shorter.u32(1).u8(1).u8(2);
    m = decode_message(span(shorter.bytes()));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(test::error_of(m), WireError::TrailingBytes);
}

TEST(DecodeMessage, LengthLimits)
{
    const Bytes short_message(kHeaderSize - 1, 0);
    auto m = decode_message(span(short_message));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(test::error_of(m), WireError::MessageTooShort);

    Bytes big(kMaxMessageLength + 1, 0);
    m = decode_message(span(big));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(test::error_of(m), WireError::MessageTooLong);

    big.resize(kMaxMessageLength);
    store_be32(big.data() + 20, kMaxMessageLength - kHeaderSize - 4);
    m = decode_message(span(big));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->body.size(), kMaxMessageLength - kHeaderSize - 4);
}

// Envelope for decode_frame tests.
Bytes frame(std::uint32_t sequence, std::uint32_t message_length, std::size_t payload,
            std::uint8_t flags = 0)
{
    Builder b;
    b.u8(2).u8(11).u8(flags | 2).u8(11).u32(0).u32(42).u32(sequence).u32(message_length);
    for (std::size_t i = 0; i < payload; ++i)
        b.u8(static_cast<std::uint32_t>(i));
    return b.bytes();
}

TEST(DecodeFrame, SingleDatagramPayloadMustBeTheWholeMessage)
{
    Bytes f = frame(0, 60, 60);
    auto r = decode_frame(span(f));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->envelope.request_id, 42u);
    EXPECT_EQ(r->payload.size(), 60u);
    EXPECT_EQ(r->payload.data(), f.data() + kEnvelopeSize);

    f = frame(0, 60, 61);
    r = decode_frame(span(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TrailingBytes);

    f = frame(0, 60, 59);
    r = decode_frame(span(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::Truncated);

    f = frame(1, 60, 60); // a one-datagram message has no datagram 1
    r = decode_frame(span(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::BadField);
}

TEST(DecodeFrame, ChunksMustHaveTheSizeTheirSequenceImplies)
{
    // 1000 octets: 492 + 492 + 16.
    for (std::uint8_t flags : {std::uint8_t{0}, envflag::kTruncated}) {
        EXPECT_TRUE(decode_frame(span(frame(0, 1000, 492, flags))).ok());
        EXPECT_TRUE(decode_frame(span(frame(1, 1000, 492, flags))).ok());
        auto last = decode_frame(span(frame(2, 1000, 16, flags)));
        ASSERT_TRUE(last.ok());
        EXPECT_EQ(last->payload.size(), 16u);
        EXPECT_EQ(last->envelope.sequence, 2u);
    }
    auto r = decode_frame(span(frame(2, 1000, 492)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TrailingBytes);
    r = decode_frame(span(frame(1, 1000, 100)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::Truncated);
    r = decode_frame(span(frame(0, 1000, 493)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TrailingBytes);
    r = decode_frame(span(frame(3, 1000, 16)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::BadField);
    r = decode_frame(span(frame(0xffffffff, 1000, 16)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::BadField);
    // An exact multiple of 492: the last chunk is full.
    EXPECT_TRUE(decode_frame(span(frame(1, 984, 492))).ok());
}

TEST(DecodeFrame, AWholeLargeMessageBehindOneEnvelopeIsAccepted)
{
    // TCP frames are never split (handle-protocol.md 1.12).
    auto r = decode_frame(span(frame(0, 1000, 1000)));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->payload.size(), 1000u);
    r = decode_frame(span(frame(1, 1000, 1000)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TrailingBytes);
}

TEST(DecodeFrame, EnvelopeErrorsPassThrough)
{
    Bytes f = frame(0, 60, 60);
    f[0] = 1;
    auto r = decode_frame(span(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::BadVersion);
    f = frame(0, 300000, 0);
    r = decode_frame(span(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::MessageTooLong);
    for (std::size_t n = 0; n < kEnvelopeSize; ++n) {
        const Bytes p(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
        r = decode_frame(span(p));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(test::error_of(r), WireError::Truncated);
    }
}

TEST(MessageWriter, FillsInLengthsAndCredentialLength)
{
    std::array<std::uint8_t, 128> buf;
    buf.fill(0xee);
    MessageWriter w(buf);
    EXPECT_EQ(w.body_size(), 0u);
    w.body().u32(0xcafebabe);
    w.body().u8(7);
    EXPECT_EQ(w.body_size(), 5u);
    Envelope env;
    env.request_id = 5;
    env.suggested_major = 2;
    env.suggested_minor = 11;
    env.message_length = 999; // overwritten
    Header h;
    h.opcode = 1;
    h.response_code = 1;
    h.body_length = 999; // overwritten
    const std::size_t n = w.finish(env, h);
    ASSERT_EQ(n, kEnvelopeSize + kHeaderSize + 5 + 4);
    EXPECT_EQ(test::to_hex(ByteSpan(buf.data(), n)),
              "020b020b000000000000000500000000"
              "00000021"
              "000000010000000100000000000000000000000000000005"
              "cafebabe07"
              "00000000");
    auto f = decode_frame(ByteSpan(buf.data(), n));
    ASSERT_TRUE(f.ok());
    auto m = decode_message(f->payload);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->body.size(), 5u);
    EXPECT_TRUE(m->has_credential_length);
}

TEST(MessageWriter, ReportsABufferTooSmall)
{
    std::array<std::uint8_t, kEnvelopeSize + kHeaderSize - 1> tiny{};
    MessageWriter a(tiny);
    EXPECT_EQ(a.finish({}, {}), 0u);

    // Room for the body but not for CredentialLength.
    std::array<std::uint8_t, kEnvelopeSize + kHeaderSize + 4 + 3> small{};
    MessageWriter b(small);
    b.body().u32(1);
    EXPECT_EQ(b.finish({}, {}), 0u);

    std::array<std::uint8_t, kEnvelopeSize + kHeaderSize + 4 + 4> exact{};
    MessageWriter c(exact);
    c.body().u32(1);
    EXPECT_EQ(c.finish({}, {}), exact.size());
}

TEST(MessageWriter, RefusesMessagesAboveTheLimit)
{
    std::vector<std::uint8_t> buf(kEnvelopeSize + kMaxMessageLength + 16);
    MessageWriter w(buf);
    const std::vector<std::uint8_t> body(kMaxMessageLength - kHeaderSize - 4 + 1, 0);
    w.body().bytes(body);
    EXPECT_EQ(w.finish({}, {}), 0u);

    MessageWriter ok(buf);
    ok.body().bytes(ByteSpan(body.data(), body.size() - 1));
    EXPECT_EQ(ok.finish({}, {}), kEnvelopeSize + kMaxMessageLength);
}

} // namespace
} // namespace idpath::wire
