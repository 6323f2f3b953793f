#include "dataplane/resolve/resolver.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/digest.hpp"
#include "resolve_fixture.hpp"

namespace idpath::resolve {
namespace {

using test::make_request;
using wire::ResponseCode;

constexpr std::uint32_t kNow = 1800000000;

class ResolverTest : public ::testing::Test {
protected:
    test::Reply run(const test::Request& req, bool udp = true)
    {
        return run_raw(req.envelope, req.message(), udp);
    }

    test::Reply run_raw(const wire::Envelope& env, ByteSpan message, bool udp = true)
    {
        const RequestContext ctx{udp ? policy_.max_udp_datagrams * wire::kMaxUdpChunk : wire::kMaxMessageLength, kNow, udp,
                                 can_punt_};
        test::Reply r;
        r.outcome = resolve(env, message, *table_, policy_, ctx, {out_.get(), kReplyBufferSize});
        if (!r.outcome.answered() || r.outcome.punt)
            return r;
        const ByteSpan bytes(out_.get(), r.outcome.size);
        r.envelope = *wire::decode_envelope(bytes);
        EXPECT_EQ(r.envelope.message_length, r.outcome.size - wire::kEnvelopeSize);
        const auto m = wire::decode_message(bytes.subspan(wire::kEnvelopeSize));
        EXPECT_TRUE(m.ok());
        if (!m.ok())
            return r;
        EXPECT_TRUE(m->has_credential_length);
        EXPECT_TRUE(m->credential.empty());
        r.header = m->header;
        auto body = wire::decode_response_body(m->header, m->body);
        EXPECT_TRUE(body.ok()) << wire::to_string(body.error());
        if (body.ok())
            r.body = std::move(body).value();
        return r;
    }

    std::vector<std::uint32_t> indexes(const test::Reply& r)
    {
        std::vector<std::uint32_t> v;
        for (const auto& x : r.body.resolution.values)
            v.push_back(x.index);
        return v;
    }

    std::shared_ptr<const table::Table> table_ = test::small_table();
    Policy policy_;
    bool can_punt_ = false;
    std::unique_ptr<std::uint8_t[]> out_{new std::uint8_t[kReplyBufferSize]};
};

TEST_F(ResolverTest, AnswersEveryValueAndEchoesTheEnvelope)
{
    const auto r = run(make_request("88.100.1/abc"));
    ASSERT_TRUE(r.outcome.answered());
    EXPECT_EQ(r.header.response_code, 1u);
    EXPECT_EQ(r.header.opcode, 1u);
    EXPECT_EQ(r.envelope.request_id, 0x12345678u);
    EXPECT_EQ(r.envelope.major, 2);
    EXPECT_EQ(r.envelope.minor, 11);
    EXPECT_EQ(r.envelope.sequence, 0u);
    EXPECT_EQ(r.header.expiration, kNow + wire::kDefaultExpirationSeconds);
    EXPECT_EQ(r.header.site_serial, 1);
    EXPECT_EQ(r.header.op_flags, 0x99000000u); // AT|REC|CA|PO, as a HANDLE.NET primary answers
    EXPECT_EQ(r.body.resolution.handle, "88.100.1/abc");
    EXPECT_EQ(indexes(r), (std::vector<std::uint32_t>{1, 2, 3, 100}));
    EXPECT_EQ(r.outcome.values, 4u);
}

TEST_F(ResolverTest, MirrorDoesNotClaimAuthority)
{
    policy_.primary = false;
    policy_.site_serial = 9;
    const auto r = run(make_request("88.100.1/abc"));
    EXPECT_EQ(r.header.op_flags, 0x19000000u);
    EXPECT_EQ(r.header.site_serial, 9);
}

TEST_F(ResolverTest, CaseInsensitiveKeyButHandleEchoedAsAsked)
{
    const auto r = run(make_request("88.100.1/ABC"));
    EXPECT_EQ(r.header.response_code, 1u);
    EXPECT_EQ(r.body.resolution.handle, "88.100.1/ABC");
}

TEST_F(ResolverTest, IndexOrTypeFilter)
{
    const auto r = run(make_request("88.100.1/abc", 0x19000000, {1, 100}, {"URL", "HS_ADMIN"}));
    EXPECT_EQ(indexes(r), (std::vector<std::uint32_t>{1, 100}));
    const auto by_type = run(make_request("88.100.1/abc", 0x19000000, {}, {"email"}));
    EXPECT_EQ(indexes(by_type), (std::vector<std::uint32_t>{2}));
    const auto by_index = run(make_request("88.100.1/abc", 0x19000000, {3, 99999}, {}));
    EXPECT_EQ(indexes(by_index), (std::vector<std::uint32_t>{3}));
}

TEST_F(ResolverTest, TypeFamilyWithTrailingDot)
{
    const auto r = run(make_request("88.100.1/abc", 0x19000000, {}, {"url."}));
    EXPECT_EQ(indexes(r), (std::vector<std::uint32_t>{1, 3}));
    const auto exact = run(make_request("88.100.1/abc", 0x19000000, {}, {"URL"}));
    EXPECT_EQ(indexes(exact), (std::vector<std::uint32_t>{1}));
    const auto partial = run(make_request("88.100.1/abc", 0x19000000, {}, {"UR"}));
    EXPECT_EQ(partial.header.response_code, 200u);
}

TEST_F(ResolverTest, NothingMatchedIs200AbsentIs100)
{
    EXPECT_EQ(run(make_request("88.100.1/abc", 0x19000000, {42}, {})).header.response_code, 200u);
    const auto nf = run(make_request("88.100.1/nope"));
    EXPECT_EQ(nf.header.response_code, 100u);
    EXPECT_EQ(nf.body.error.message, "");
}

TEST_F(ResolverTest, PrefixNotHomedIs301)
{
    EXPECT_EQ(run(make_request("88.200.1/abc")).header.response_code, 301u);
    EXPECT_EQ(run(make_request("88.100/abc")).header.response_code, 301u);
}

// ---- recursive role (docs/recursion.md) ----

constexpr std::uint32_t kNoRec = 0x09000000; // CA|PO, REC clear

TEST_F(ResolverTest, RecursiveHitIsAnsweredWhateverThePrefix)
{
    policy_.recursive = true;
    policy_.primary = false;
    can_punt_ = true;
    auto b = table::TableBuilder();
    b.add("88.555/cached", {test::value(1, "URL", "https://example.org/c")});
    table_ = std::move(b).build(); // 88.555 homed by nobody: a cached answer
    const auto r = run(make_request("88.555/CACHED"));
    EXPECT_EQ(r.header.response_code, 1u);
    EXPECT_EQ(indexes(r), (std::vector<std::uint32_t>{1}));
    EXPECT_EQ(r.header.op_flags & wire::opflag::kAuthoritative, 0u);
    EXPECT_FALSE(r.outcome.punt);
    // Filters apply to cached records as to any.
    EXPECT_EQ(run(make_request("88.555/cached", 0x19000000, {7}, {})).header.response_code, 200u);
}

TEST_F(ResolverTest, RecursiveAtWithRecIsPuntedEvenOnAHit)
{
    policy_.recursive = true;
    policy_.primary = false;
    can_punt_ = true;
    auto b = table::TableBuilder();
    b.add("88.555/cached", {test::value(1, "URL", "https://example.org/c")});
    table_ = std::move(b).build();
    constexpr std::uint32_t kAtRec = 0x99000000; // AT|REC|CA|PO
    const auto at = make_request("88.555/cached", kAtRec);
    EXPECT_TRUE(run(at).outcome.punt); // a cached copy is not what AT asks for
    // AT without REC, or where the transport cannot punt: the table's answer, as before.
    EXPECT_EQ(run(make_request("88.555/cached", kAtRec & ~wire::opflag::kRecursive)).header.response_code, 1u);
    can_punt_ = false;
    EXPECT_EQ(run(make_request("88.555/cached", kAtRec)).header.response_code, 1u);
}

TEST_F(ResolverTest, RecursiveMissWithRecIsPuntedAndWritesNothing)
{
    policy_.recursive = true;
    can_punt_ = true;
    for (const char* h : {"88.200.1/abc", "88.100.1/nope", "0.NA/88.777", "88.777"}) {
        SCOPED_TRACE(h);
        out_[0] = 0xee;
        const auto req = make_request(h); // outcome.handle points into it
        const auto r = run(req);
        EXPECT_TRUE(r.outcome.punt);
        EXPECT_TRUE(r.outcome.answered());
        EXPECT_EQ(r.outcome.size, 0u);
        EXPECT_EQ(out_[0], 0xee);
        EXPECT_EQ(as_string_view(r.outcome.handle), h);
    }
}

TEST_F(ResolverTest, RecursiveMissWithoutRecOrPuntIsAnsweredFromTheTable)
{
    policy_.recursive = true;
    // REC clear: what the table alone says (301 not homed, 100 homed, 303 referral).
    can_punt_ = true;
    EXPECT_EQ(run(make_request("88.200.1/abc", kNoRec)).header.response_code, 301u);
    EXPECT_EQ(run(make_request("88.100.1/nope", kNoRec)).header.response_code, 100u);
    EXPECT_EQ(run(make_request("0.NA/88.777", kNoRec)).header.response_code, 303u);
    // REC set but the transport cannot punt (TCP, DPDK, a reassembled request): the same.
    can_punt_ = false;
    const auto r = run(make_request("88.200.1/abc"));
    EXPECT_FALSE(r.outcome.punt);
    EXPECT_EQ(r.header.response_code, 301u);
    EXPECT_EQ(run(make_request("88.100.1/abc")).header.response_code, 1u);
}

TEST_F(ResolverTest, AuthoritativeNodeNeverPunts)
{
    can_punt_ = true;
    const auto r = run(make_request("88.200.1/abc"));
    EXPECT_FALSE(r.outcome.punt);
    EXPECT_EQ(r.header.response_code, 301u);
}

TEST_F(ResolverTest, AnswerErrorWritesAnErrorToTheRequest)
{
    policy_.primary = false;
    const auto req = make_request("88.200.1/abc");
    const auto msg = req.message();
    const RequestContext ctx{policy_.max_udp_datagrams * wire::kMaxUdpChunk, kNow, true};
    const Outcome o = answer_error(req.envelope, msg, policy_, ctx, ResponseCode::Error, "recursion failed: x",
                                   {out_.get(), kReplyBufferSize});
    ASSERT_TRUE(o.answered());
    EXPECT_EQ(o.response_code, 2u);
    EXPECT_EQ(as_string_view(o.handle), "88.200.1/abc");
    const ByteSpan bytes(out_.get(), o.size);
    const auto m = wire::decode_message(bytes.subspan(wire::kEnvelopeSize));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.response_code, 2u);
    EXPECT_EQ(m->header.opcode, 1u);
    const auto body = wire::decode_response_body(m->header, m->body);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->error.message, "recursion failed: x");
}

TEST_F(ResolverTest, PublicOnlyDropsRestrictedValues)
{
    const auto r = run(make_request("88.100.1/private"));
    EXPECT_EQ(indexes(r), (std::vector<std::uint32_t>{1}));
    EXPECT_EQ(run(make_request("88.100.1/private", 0x19000000, {2}, {})).header.response_code, 200u);
}

TEST_F(ResolverTest, RestrictedValuesWithoutPublicOnlyAre401)
{
    EXPECT_EQ(run(make_request("88.100.1/private", 0x18000000)).header.response_code, 401u);
    // Only public values asked for: no restriction applies.
    EXPECT_EQ(run(make_request("88.100.1/private", 0x18000000, {1}, {})).header.response_code, 1u);
}

TEST_F(ResolverTest, PrefixHandlesSlashlessAndReferral)
{
    const auto site = run(make_request("0.NA/88.100.1"));
    ASSERT_EQ(site.header.response_code, 1u);
    EXPECT_EQ(site.body.resolution.values.at(0).type, "HS_SITE");
    EXPECT_EQ(run(make_request("88.100.1")).header.response_code, 1u);
    EXPECT_EQ(run(make_request("0.na/88.100.1")).header.response_code, 1u);

    const auto ref = run(make_request("0.NA/88.5.6"));
    ASSERT_EQ(ref.header.response_code, 303u);
    EXPECT_EQ(ref.body.kind, wire::DecodedResponse::Kind::Referral);
    EXPECT_EQ(ref.body.referral.handle, "");
    ASSERT_EQ(ref.body.referral.values.size(), 1u);
    EXPECT_EQ(ref.body.referral.values[0].type, "HS_SITE.PREFIX");

    EXPECT_EQ(run(make_request("0.NA/88.5.6", 0x19000000 | wire::opflag::kDoNotRefer)).header.response_code, 301u);
    EXPECT_EQ(run(make_request("0.NA/77.1")).header.response_code, 301u);
}

TEST_F(ResolverTest, HomedPrefixWithoutSiteRecordIs100)
{
    table::TableBuilder b;
    b.home("88.9");
    table_ = std::move(b).build();
    EXPECT_EQ(run(make_request("0.NA/88.9")).header.response_code, 100u);
}

TEST_F(ResolverTest, RequestDigestIsSha256OfHeaderAndBody)
{
    const auto req = make_request("88.100.1/abc", 0x19000000 | wire::opflag::kReturnDigest);
    const auto r = run(req);
    ASSERT_EQ(r.header.response_code, 1u);
    ASSERT_TRUE(r.body.digest.has_value());
    EXPECT_EQ(r.body.digest->type, wire::DigestType::Sha256);
    std::array<std::uint8_t, 64> expect{};
    ByteWriter w(expect);
    const auto m = *wire::decode_message(req.message());
    wire::write_request_digest(w, m.header_and_body);
    EXPECT_EQ(std::vector<std::uint8_t>(expect.begin() + 1, expect.begin() + 33), r.body.digest->digest);
    EXPECT_EQ(r.body.resolution.handle, "88.100.1/abc");
}

TEST_F(ResolverTest, CertifyAndEncryptAreNotEchoed)
{
    const auto r = run(make_request("88.100.1/abc", 0x19000000 | wire::opflag::kCertify | wire::opflag::kEncrypt));
    EXPECT_EQ(r.header.op_flags & (wire::opflag::kCertify | wire::opflag::kEncrypt), 0u);
}

TEST_F(ResolverTest, UdpCapTurnsLargeAnswersIntoUseTcp)
{
    policy_.max_udp_datagrams = 2;
    const auto r = run(make_request("88.100.1/big"));
    EXPECT_EQ(r.header.response_code, 2u);
    EXPECT_NE(r.body.error.message.find("TCP"), std::string::npos);
    EXPECT_TRUE(r.outcome.oversize);
    const auto t = run(make_request("88.100.1/big"), false);
    EXPECT_EQ(t.header.response_code, 1u);
    EXPECT_EQ(t.body.resolution.values.size(), 2u);
}

TEST_F(ResolverTest, GetSiteInfo)
{
    EXPECT_EQ(run(make_request("x", 0, {}, {}, 2)).header.response_code, 5u);
    wire::SiteInfo site;
    site.serial = 7;
    site.servers.push_back({});
    policy_.site_info = wire::encode_site_info(site);
    const auto r = run(make_request("x", 0, {}, {}, 2));
    EXPECT_EQ(r.header.response_code, 1u);
    EXPECT_EQ(r.body.kind, wire::DecodedResponse::Kind::SiteInfo);
    EXPECT_EQ(r.body.site_info, site);
}

TEST_F(ResolverTest, UnservedOpcodesAre5)
{
    for (std::uint32_t op : {100u, 101u, 105u, 300u, 400u, 1000u, 1001u, 1002u, 2000u, 2001u, 77u}) {
        const auto r = run(make_request("88.100.1/abc", 0, {}, {}, op));
        EXPECT_EQ(r.header.response_code, 5u) << op;
        EXPECT_EQ(r.header.opcode, op);
    }
}

TEST_F(ResolverTest, OpcodeZeroAndBadLengthsAreProtocolErrors)
{
    auto req = make_request("88.100.1/abc", 0x19000000, {}, {}, 0);
    EXPECT_EQ(run(req).header.response_code, 4u);

    req = make_request("88.100.1/abc");
    const auto short_msg = req.message().first(req.message().size() - 3);
    const auto r = run_raw(req.envelope, short_msg);
    EXPECT_EQ(r.header.response_code, 4u);
    EXPECT_EQ(r.header.opcode, 0u);
    EXPECT_TRUE(r.outcome.malformed);
}

TEST_F(ResolverTest, MalformedBodyIsProtocolErrorWithOpcode)
{
    auto req = make_request("88.100.1/abc");
    // Handle length far past the body.
    store_be32(req.bytes.data() + wire::kEnvelopeSize + wire::kHeaderSize, 0xfffffff0u);
    const auto r = run(req);
    EXPECT_EQ(r.header.response_code, 4u);
    EXPECT_EQ(r.header.opcode, 1u);
    EXPECT_TRUE(r.outcome.malformed);
}

TEST_F(ResolverTest, ResponsesAreNotAnswered)
{
    auto req = make_request("88.100.1/abc");
    store_be32(req.bytes.data() + wire::kEnvelopeSize + 4, 1); // ResponseCode 1
    const auto r = run(req);
    EXPECT_FALSE(r.outcome.answered());
    EXPECT_EQ(r.outcome.silence, Silence::NotARequest);
}

TEST_F(ResolverTest, EncryptedWithoutSessionGetsSessionErrors)
{
    auto req = make_request("88.100.1/abc");
    req.envelope.flags = wire::envflag::kEncrypted;
    EXPECT_EQ(run(req).header.response_code, 501u);
    req.envelope.session_id = 5;
    EXPECT_EQ(run(req).header.response_code, 500u);
}

TEST_F(ResolverTest, TooManyFilterTypesIsRefused)
{
    std::vector<std::string_view> types(300, "URL");
    EXPECT_EQ(run(make_request("88.100.1/abc", 0x19000000, {}, types), false).header.response_code, 4u);
}

TEST_F(ResolverTest, TinyBufferNeverOverflows)
{
    const auto req = make_request("88.100.1/big");
    std::vector<std::uint8_t> small(100);
    const RequestContext ctx{wire::kMaxMessageLength, kNow, false};
    const auto o = resolve(req.envelope, req.message(), *table_, policy_, ctx, small);
    // The answer cannot fit; a short RC_ERROR does, and nothing is written past the buffer.
    EXPECT_LE(o.size, small.size());
    EXPECT_EQ(o.response_code, 2u);
    EXPECT_TRUE(o.oversize);
}

} // namespace
} // namespace idpath::resolve
