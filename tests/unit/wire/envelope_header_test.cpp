#include <gtest/gtest.h>

#include <array>

#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/header.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Bytes;
using test::from_hex;
using test::span;

TEST(Envelope, DecodesEveryField)
{
    const Bytes b = from_hex("020b 2a0b 01020304 12345678 00000002 000003e8");
    auto e = decode_envelope(span(b));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->major, 2);
    EXPECT_EQ(e->minor, 11);
    EXPECT_EQ(e->flags, envflag::kTruncated);
    EXPECT_TRUE(e->truncated());
    EXPECT_FALSE(e->compressed());
    EXPECT_FALSE(e->encrypted());
    EXPECT_EQ(e->suggested_major, 0x0a); // low five bits (DO-IRP), not CNRI's two
    EXPECT_EQ(e->suggested_minor, 11);
    EXPECT_EQ(e->session_id, 0x01020304u);
    EXPECT_EQ(e->request_id, 0x12345678u);
    EXPECT_EQ(e->sequence, 2u);
    EXPECT_EQ(e->message_length, 1000u);
}

TEST(Envelope, EncodeIsTheInverseOfDecode)
{
    Envelope e;
    e.major = 2;
    e.minor = 10;
    e.flags = envflag::kCompressed | envflag::kEncrypted;
    e.suggested_major = 2;
    e.suggested_minor = 11;
    e.session_id = 7;
    e.request_id = 0xdeadbeef;
    e.sequence = 3;
    e.message_length = 262144;
    std::array<std::uint8_t, kEnvelopeSize> out{};
    encode_envelope(e, out);
    EXPECT_EQ(test::to_hex(out), "020ac20b00000007deadbeef0000000300040000");
    auto back = decode_envelope(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, e);
}

TEST(Envelope, EncodeKeepsFlagsAndSuggestedMajorApart)
{
    Envelope e;
    e.flags = 0xff;           // only CP/EC/TC are flags
    e.suggested_major = 0xff; // only five bits fit
    std::array<std::uint8_t, kEnvelopeSize> out{};
    encode_envelope(e, out);
    EXPECT_EQ(out[2], 0xff);
    auto back = decode_envelope(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->flags, 0xe0);
    EXPECT_EQ(back->suggested_major, 0x1f);
}

TEST(Envelope, AcceptsMajorsTwoThreeAndFiveOnly)
{
    Bytes b = from_hex("020b020b 00000000 00000001 00000000 00000018");
    for (std::uint8_t major : {2, 3, 5}) {
        b[0] = major;
        EXPECT_TRUE(decode_envelope(span(b)).ok()) << int{major};
    }
    for (std::uint8_t major : {0, 1, 4, 6, 0xff}) {
        b[0] = major;
        auto e = decode_envelope(span(b));
        ASSERT_FALSE(e.ok());
        EXPECT_EQ(test::error_of(e), WireError::BadVersion);
    }
}

TEST(Envelope, RejectsMessageLengthAboveHandleNetLimit)
{
    Bytes b = from_hex("020b020b 00000000 00000001 00000000 00040000");
    EXPECT_TRUE(decode_envelope(span(b)).ok()); // exactly 256 KiB
    b[19] = 1;
    auto e = decode_envelope(span(b));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(test::error_of(e), WireError::MessageTooLong);
    b = from_hex("020b020b 00000000 00000001 00000000 ffffffff");
    e = decode_envelope(span(b));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(test::error_of(e), WireError::MessageTooLong);
}

TEST(Envelope, EveryShortInputIsTruncated)
{
    const Bytes b = from_hex("020b020b 00000000 00000001 00000000 00000018");
    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto e = decode_envelope(span(p));
        ASSERT_FALSE(e.ok()) << n;
        EXPECT_EQ(test::error_of(e), WireError::Truncated);
    }
}

TEST(Envelope, ReplyEchoesVersionSessionAndRequest)
{
    Envelope req;
    req.major = 2;
    req.minor = 3;
    req.flags = envflag::kTruncated | envflag::kCompressed;
    req.suggested_major = 2;
    req.suggested_minor = 10;
    req.session_id = 99;
    req.request_id = 0x12345678;
    req.sequence = 4;
    req.message_length = 2000;
    const Envelope r = reply_envelope(req, 321);
    EXPECT_EQ(r.major, 2);
    EXPECT_EQ(r.minor, 3);
    EXPECT_EQ(r.flags, 0);
    EXPECT_EQ(r.suggested_major, kImplMajor);
    EXPECT_EQ(r.suggested_minor, kImplMinor);
    EXPECT_EQ(r.session_id, 99u);
    EXPECT_EQ(r.request_id, 0x12345678u);
    EXPECT_EQ(r.sequence, 0u);
    EXPECT_EQ(r.message_length, 321u);
}

TEST(Envelope, MultiDatagramIsDetectedWithoutTc)
{
    Envelope e;
    e.message_length = 492;
    EXPECT_FALSE(e.multi_datagram());
    e.message_length = 493; // HANDLE.NET servers leave TC clear
    EXPECT_TRUE(e.multi_datagram());
    e.message_length = 100;
    e.sequence = 1;
    EXPECT_TRUE(e.multi_datagram());
    e.sequence = 0;
    e.flags = envflag::kTruncated;
    EXPECT_TRUE(e.multi_datagram());
}

TEST(Header, DecodesEveryFieldAndIgnoresReserved)
{
    const Bytes b = from_hex("00000001 00000064 19800000 fffe 07 ee 77359400 00000018");
    auto h = decode_header(span(b));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->opcode, 1u);
    EXPECT_EQ(h->response_code, 100u);
    EXPECT_EQ(h->op_flags, 0x19800000u);
    EXPECT_TRUE(h->has(opflag::kReturnDigest));
    EXPECT_TRUE(h->has(opflag::kRecursive));
    EXPECT_FALSE(h->has(opflag::kAuthoritative));
    EXPECT_EQ(h->site_serial, 0xfffe);
    EXPECT_EQ(h->recursion_count, 7);
    EXPECT_EQ(h->expiration, 2000000000u);
    EXPECT_EQ(h->body_length, 24u);
    EXPECT_FALSE(h->is_request());
}

TEST(Header, EncodeIsTheInverseOfDecodeAndZeroesReserved)
{
    Header h;
    h.opcode = 1001;
    h.response_code = 0;
    h.op_flags = opflag::kCertify | opflag::kKeepAlive | opflag::kRecursiveAuth;
    h.site_serial = 0xffff;
    h.recursion_count = 40;
    h.expiration = 0x80000001;
    h.body_length = 262120;
    std::array<std::uint8_t, kHeaderSize> out;
    out.fill(0xaa);
    encode_header(h, out);
    EXPECT_EQ(test::to_hex(out), "000003e90000000042000004ffff2800800000010003ffe8");
    auto back = decode_header(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, h);
    EXPECT_TRUE(back->is_request());
}

TEST(Header, EveryShortInputIsTruncated)
{
    const Bytes b(kHeaderSize, 0);
    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto h = decode_header(span(p));
        ASSERT_FALSE(h.ok()) << n;
        EXPECT_EQ(test::error_of(h), WireError::Truncated);
    }
}

} // namespace
} // namespace idpath::wire
