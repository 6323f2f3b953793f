#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/wire/response.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Builder;
using test::Bytes;
using test::span;

Header response_header(OpCode op, ResponseCode rc, bool rd)
{
    Header h;
    h.opcode = static_cast<std::uint32_t>(op);
    h.response_code = static_cast<std::uint32_t>(rc);
    h.op_flags = opflag::kRecursive | opflag::kCacheCertify | opflag::kPublicOnly |
                 (rd ? opflag::kReturnDigest : 0);
    return h;
}

Bytes sha256_prefix()
{
    Builder b;
    b.u8(3);
    for (std::uint32_t i = 0; i < 32; ++i)
        b.u8(0xa0 + i);
    return b.bytes();
}

HandleValue site_value()
{
    HandleValue v;
    v.index = 1;
    v.type = "HS_SITE.PREFIX";
    v.data = {1, 2, 3};
    return v;
}

Bytes encode(const HandleValue& v)
{
    Bytes out(encoded_size(v));
    ByteWriter w(out);
    encode_value(w, v);
    return out;
}

TEST(RequestDigest, ReadsEachHashType)
{
    struct Case {
        std::uint8_t type;
        std::size_t size;
    };
    for (const Case c : {Case{1, 16}, Case{2, 20}, Case{3, 32}}) {
        Builder b;
        b.u8(c.type);
        for (std::size_t i = 0; i < c.size; ++i)
            b.u8(static_cast<std::uint32_t>(i));
        b.u8(0x77); // the body that follows
        ByteReader r(span(b.bytes()));
        auto d = decode_request_digest(r);
        ASSERT_TRUE(d.ok()) << int{c.type};
        EXPECT_EQ(static_cast<int>(d->type), c.type);
        ASSERT_EQ(d->digest.size(), c.size);
        EXPECT_EQ(d->digest.back(), c.size - 1);
        EXPECT_EQ(r.remaining(), 1u);

        for (std::size_t n = 0; n < 1 + c.size; ++n) {
            const Bytes p(b.bytes().begin(), b.bytes().begin() + static_cast<std::ptrdiff_t>(n));
            ByteReader pr(span(p));
            auto bad = decode_request_digest(pr);
            ASSERT_FALSE(bad.ok()) << n;
            EXPECT_EQ(test::error_of(bad), WireError::Truncated);
        }
    }
}

TEST(RequestDigest, LegacyMd5IsALengthPrefixedDigest)
{
    // The type octet 0 is the high octet of the int4 length.
    const Bytes b = Builder().u32(4).u32(0xdeadbeef).bytes();
    ByteReader r(span(b));
    auto d = decode_request_digest(r);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->type, DigestType::LegacyMd5);
    EXPECT_EQ(test::to_hex(d->digest), "deadbeef");
    EXPECT_TRUE(r.at_end());

    const Bytes huge = Builder().u32(0x00ffffff).zeros(16).bytes();
    ByteReader hr(span(huge));
    auto bad = decode_request_digest(hr);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(test::error_of(bad), WireError::LengthTooLarge);
}

TEST(RequestDigest, UnknownTypeIsBadField)
{
    for (std::uint8_t t : {4, 5, 0x80, 0xff}) {
        const Bytes b = Builder().u8(t).zeros(40).bytes();
        ByteReader r(span(b));
        auto d = decode_request_digest(r);
        ASSERT_FALSE(d.ok());
        EXPECT_EQ(test::error_of(d), WireError::BadField);
    }
}

TEST(ErrorBody, MessageAndOptionalFailedIndexes)
{
    Bytes out(32);
    ByteWriter w(out);
    encode_error_body(w, "not here");
    out.resize(w.size());
    EXPECT_EQ(out, Builder().str("not here").bytes());
    auto e = decode_error_body(span(out));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->message, "not here");
    EXPECT_TRUE(e->failed_indexes.empty());

    const Bytes doirp = Builder().str("bad").u32(2).u32(3).u32(300).bytes();
    e = decode_error_body(span(doirp));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->message, "bad");
    EXPECT_EQ(e->failed_indexes, (std::vector<std::uint32_t>{3, 300}));

    // Empty body: HANDLE.NET's RC 100 may carry nothing but the (empty) message.
    e = decode_error_body({});
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e->message.empty());
    e = decode_error_body(span(Builder().u32(0).bytes()));
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e->message.empty());
}

TEST(ErrorBody, RejectsBadLengths)
{
    struct Case {
        Bytes bytes;
        WireError error;
    };
    const Case cases[] = {
        {Builder().u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {Builder().u32(10).raw("abc").bytes(), WireError::Truncated},
        {Builder().str("m").u8(1).bytes(), WireError::Truncated},
        {Builder().str("m").u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {Builder().str("m").u32(3).u32(1).bytes(), WireError::Truncated},
        {Builder().str("m").u32(1).u32(1).u8(0).bytes(), WireError::TrailingBytes},
    };
    for (const Case& c : cases) {
        auto e = decode_error_body(span(c.bytes));
        ASSERT_FALSE(e.ok()) << test::to_hex(c.bytes);
        EXPECT_EQ(test::error_of(e), c.error) << test::to_hex(c.bytes);
    }
    const Bytes b = Builder().str("bad").u32(2).u32(3).u32(300).bytes();
    for (std::size_t n = 1; n < b.size(); ++n) {
        if (n == 7)
            continue; // the message alone is a complete body
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto bad = decode_error_body(span(p));
        ASSERT_FALSE(bad.ok()) << n;
        EXPECT_EQ(test::error_of(bad), WireError::Truncated) << n;
    }
}

TEST(ReferralBody, HandleWithOptionalValues)
{
    auto r = decode_referral_body(span(Builder().str("0.NA/88").bytes()));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->handle, "0.NA/88");
    EXPECT_TRUE(r->values.empty());

    const Bytes with_values = Builder().str("").u32(1).raw(encode(site_value())).bytes();
    r = decode_referral_body(span(with_values));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->handle, "");
    ASSERT_EQ(r->values.size(), 1u);
    EXPECT_EQ(r->values[0], site_value());

    for (std::size_t n = 0; n < with_values.size(); ++n) {
        if (n == 4)
            continue; // the handle alone is a complete referral
        const Bytes p(with_values.begin(), with_values.begin() + static_cast<std::ptrdiff_t>(n));
        auto bad = decode_referral_body(span(p));
        ASSERT_FALSE(bad.ok()) << n;
        EXPECT_EQ(test::error_of(bad), WireError::Truncated) << n;
    }

    Bytes trailing = with_values;
    trailing.push_back(1);
    r = decode_referral_body(span(trailing));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TrailingBytes);
    r = decode_referral_body(span(Builder().str("").u32(5000).bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TooManyValues);
}

TEST(ResponseBody, RejectsRequests)
{
    Header h;
    h.opcode = 1;
    auto r = decode_response_body(h, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::NotAResponse);
}

TEST(ResponseBody, ResolutionWithDigest)
{
    const Bytes body = Builder()
                           .raw(sha256_prefix())
                           .str("88.100.1/abc")
                           .u32(1)
                           .raw(encode(site_value()))
                           .bytes();
    auto r = decode_response_body(response_header(OpCode::Resolution, ResponseCode::Success, true),
                                  span(body));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, DecodedResponse::Kind::Resolution);
    ASSERT_TRUE(r->digest.has_value());
    EXPECT_EQ(r->digest->type, DigestType::Sha256);
    EXPECT_EQ(r->digest->digest.size(), 32u);
    EXPECT_EQ(r->digest->digest[0], 0xa0);
    EXPECT_EQ(r->resolution.handle, "88.100.1/abc");
    ASSERT_EQ(r->resolution.values.size(), 1u);
    EXPECT_EQ(r->resolution.values[0], site_value());

    // Without RD the same octets are not a valid resolution body.
    auto no_rd = decode_response_body(
        response_header(OpCode::Resolution, ResponseCode::Success, false), span(body));
    EXPECT_FALSE(no_rd.ok());

    for (std::size_t n = 0; n < body.size(); ++n) {
        const Bytes p(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
        auto bad = decode_response_body(
            response_header(OpCode::Resolution, ResponseCode::Success, true), span(p));
        ASSERT_FALSE(bad.ok()) << n;
        EXPECT_EQ(test::error_of(bad), WireError::Truncated) << n;
    }
}

TEST(ResponseBody, SiteInfoAndRawSuccesses)
{
    SiteInfo s;
    SiteServer srv;
    srv.address[15] = 1;
    srv.interfaces.push_back({});
    s.servers.push_back(srv);
    const Bytes site = encode_site_info(s);
    const Header h = response_header(OpCode::GetSiteInfo, ResponseCode::Success, false);
    auto r = decode_response_body(h, span(site));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, DecodedResponse::Kind::SiteInfo);
    EXPECT_FALSE(r->digest.has_value());
    EXPECT_EQ(r->site_info, s);

    r = decode_response_body(response_header(OpCode::DeleteHandle, ResponseCode::Success, false),
                             {});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, DecodedResponse::Kind::Raw);
    EXPECT_TRUE(r->raw.empty());

    const Bytes txn = Builder().raw(sha256_prefix()).u8(1).bytes();
    r = decode_response_body(response_header(OpCode::RetrieveTxnLog, ResponseCode::Success, true),
                             span(txn));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, DecodedResponse::Kind::Raw);
    EXPECT_EQ(r->raw, Bytes{1});
}

TEST(ResponseBody, Referrals)
{
    const Bytes body = Builder().str("").u32(1).raw(encode(site_value())).bytes();
    for (ResponseCode rc : {ResponseCode::ServiceReferral, ResponseCode::PrefixReferral}) {
        auto r = decode_response_body(response_header(OpCode::Resolution, rc, false), span(body));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->kind, DecodedResponse::Kind::Referral);
        ASSERT_EQ(r->referral.values.size(), 1u);
        EXPECT_EQ(r->referral.values[0].type, "HS_SITE.PREFIX");
    }
}

TEST(ResponseBody, ChallengeAfterDigest)
{
    // HANDLE.NET 9.2's 402 (handle-protocol.md 1.15): SHA-256 digest, then a 16-octet nonce.
    const Bytes body = Builder().raw(sha256_prefix()).str(Bytes(16, 0x5a)).bytes();
    auto r = decode_response_body(
        response_header(OpCode::RetrieveTxnLog, ResponseCode::AuthenticationNeeded, true),
        span(body));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, DecodedResponse::Kind::Challenge);
    EXPECT_EQ(r->challenge.nonce, Bytes(16, 0x5a));
    ASSERT_TRUE(r->digest.has_value());

    Bytes trailing = body;
    trailing.push_back(0);
    r = decode_response_body(
        response_header(OpCode::RetrieveTxnLog, ResponseCode::AuthenticationNeeded, true),
        span(trailing));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TrailingBytes);
}

TEST(ResponseBody, ErrorCodesCarryAMessage)
{
    const Bytes body = Builder().str("prefix not homed").bytes();
    for (ResponseCode rc : {ResponseCode::Error, ResponseCode::HandleNotFound,
                            ResponseCode::ServerNotResponsible, ResponseCode::RequestLimitDaily,
                            ResponseCode::VerifyCredentialFailed}) {
        auto r = decode_response_body(response_header(OpCode::Resolution, rc, false), span(body));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->kind, DecodedResponse::Kind::Error);
        EXPECT_EQ(r->error.message, "prefix not homed");
    }
    auto r = decode_response_body(
        response_header(OpCode::Resolution, ResponseCode::HandleNotFound, true),
        span(Builder().raw(sha256_prefix()).str("").bytes()));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, DecodedResponse::Kind::Error);
    EXPECT_TRUE(r->error.message.empty());
    EXPECT_TRUE(r->digest.has_value());

    r = decode_response_body(response_header(OpCode::Resolution, ResponseCode::Error, true),
                             span(Builder().u8(9).str("x").bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::BadField);
}

} // namespace
} // namespace idpath::wire
