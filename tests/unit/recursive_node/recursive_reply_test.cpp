#include "controlplane/app/recursive_reply.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/constants.hpp"
#include "tests/unit/resolve/resolve_fixture.hpp"

namespace idpath::app {
namespace {

using test::make_request;
using test::value;

constexpr std::uint32_t kNow = 1800000000;

recursion::Outcome positive(std::vector<wire::HandleValue> values)
{
    recursion::Outcome o;
    o.response_code = 1;
    o.value_count = static_cast<std::uint32_t>(values.size());
    std::size_t size = 0;
    for (const auto& v : values)
        size += wire::encoded_size(v);
    o.values.resize(size);
    ByteWriter w(o.values);
    for (const auto& v : values)
        wire::encode_value(w, v);
    o.ttl = 60;
    return o;
}

recursion::Outcome code(std::uint32_t rc, std::string error = {})
{
    recursion::Outcome o;
    o.response_code = rc;
    o.error = std::move(error);
    return o;
}

class RecursiveReplyTest : public ::testing::Test {
protected:
    test::Reply run(const test::Request& req, const recursion::Outcome& answer)
    {
        test::Reply r;
        r.outcome = recursive_reply(req.bytes, answer, policy_, kNow, {out_.get(), resolve::kReplyBufferSize});
        if (!r.outcome.answered())
            return r;
        const ByteSpan bytes(out_.get(), r.outcome.size);
        r.envelope = *wire::decode_envelope(bytes);
        const auto m = wire::decode_message(bytes.subspan(wire::kEnvelopeSize));
        EXPECT_TRUE(m.ok());
        if (!m.ok())
            return r;
        r.header = m->header;
        auto body = wire::decode_response_body(m->header, m->body);
        EXPECT_TRUE(body.ok());
        if (body.ok())
            r.body = std::move(body).value();
        return r;
    }

    static std::vector<std::uint32_t> indexes(const test::Reply& r)
    {
        std::vector<std::uint32_t> v;
        for (const auto& x : r.body.resolution.values)
            v.push_back(x.index);
        return v;
    }

    resolve::Policy policy_ = [] {
        resolve::Policy p;
        p.recursive = true; // as the daemon's; recursive_reply() must not punt again
        p.primary = true;
        return p;
    }();
    std::unique_ptr<std::uint8_t[]> out_{new std::uint8_t[resolve::kReplyBufferSize]};
    recursion::Outcome three_ = positive(
        {value(1, "URL", "https://example.org/a"), value(2, "EMAIL", "a@example.org"), value(3, "URL", "u3")});
};

TEST_F(RecursiveReplyTest, KeysAndPrefixes)
{
    EXPECT_EQ(table_key("88.100.1/abc"), "88.100.1/ABC");
    EXPECT_EQ(table_key("88.100.1"), "0.NA/88.100.1");
    EXPECT_EQ(table_key("0.na/88.100.1"), "0.NA/88.100.1");
    EXPECT_EQ(homing_prefix("88.100.1/ABC"), "88.100.1");
    EXPECT_EQ(homing_prefix("0.NA/88.100.1"), "88.100.1");
    EXPECT_EQ(requested_handle(make_request("88.1/x").bytes), "88.1/x");
    EXPECT_EQ(requested_handle(make_request("88.1/x", 0x19000000, {}, {}, 5).bytes), std::nullopt);
    EXPECT_EQ(requested_handle(std::vector<std::uint8_t>(10)), std::nullopt);
}

TEST_F(RecursiveReplyTest, PositiveAnswerWithFiltersAsOnTheHotPath)
{
    const auto all = run(make_request("88.555/Item"), three_);
    EXPECT_EQ(all.header.response_code, 1u);
    EXPECT_EQ(indexes(all), (std::vector<std::uint32_t>{1, 2, 3}));
    EXPECT_EQ(all.body.resolution.handle, "88.555/Item"); // echoed as asked
    EXPECT_EQ(all.envelope.request_id, 0x12345678u);
    EXPECT_EQ(all.header.op_flags & wire::opflag::kAuthoritative, 0u); // never authoritative
    EXPECT_EQ(all.header.expiration, kNow + policy_.expiration_seconds);
    EXPECT_FALSE(all.outcome.punt);
    EXPECT_EQ(indexes(run(make_request("88.555/item", 0x19000000, {2}, {}), three_)),
              (std::vector<std::uint32_t>{2}));
    EXPECT_EQ(indexes(run(make_request("88.555/item", 0x19000000, {}, {"URL"}), three_)),
              (std::vector<std::uint32_t>{1, 3}));
    EXPECT_EQ(run(make_request("88.555/item", 0x19000000, {9}, {}), three_).header.response_code, 200u);
}

TEST_F(RecursiveReplyTest, PrefixHandlesSlashlessOrNot)
{
    const auto site = positive({value(1, "HS_SITE", "site")});
    EXPECT_EQ(run(make_request("88.555"), site).header.response_code, 1u);
    EXPECT_EQ(run(make_request("0.NA/88.555"), site).header.response_code, 1u);
    EXPECT_EQ(run(make_request("88.555"), code(100)).header.response_code, 100u);
}

TEST_F(RecursiveReplyTest, NegativeAndOtherCodes)
{
    const auto nf = run(make_request("88.555/none"), code(100));
    EXPECT_EQ(nf.header.response_code, 100u);
    EXPECT_EQ(nf.body.error.message, "");
    EXPECT_EQ(run(make_request("88.555/none"), code(200)).header.response_code, 200u);
    EXPECT_EQ(run(make_request("88.555/none"), code(401)).header.response_code, 401u);
}

TEST_F(RecursiveReplyTest, FailureIsRcErrorWithAShortReason)
{
    const auto r = run(make_request("88.555/x"), code(2, "timeout asking 192.0.2.1:2641"));
    EXPECT_EQ(r.header.response_code, 2u);
    EXPECT_EQ(r.body.error.message, "recursion failed: timeout asking 192.0.2.1:2641");
    const auto long_reason = run(make_request("88.555/x"), code(2, std::string(1000, 'e')));
    EXPECT_EQ(long_reason.body.error.message.size(), 200u);
}

TEST_F(RecursiveReplyTest, UdpSizePolicyApplies)
{
    const auto big = positive({value(1, "BLOB", std::string(1200, 'x')), value(2, "BLOB", std::string(1200, 'y'))});
    const auto fits = run(make_request("88.555/big"), big);
    EXPECT_EQ(fits.header.response_code, 1u);
    EXPECT_GT(fits.outcome.size, wire::kEnvelopeSize + wire::kMaxUdpChunk); // several datagrams
    policy_.max_udp_datagrams = 1;
    const auto capped = run(make_request("88.555/big"), big);
    EXPECT_EQ(capped.header.response_code, 2u);
    EXPECT_TRUE(capped.outcome.oversize);
}

TEST_F(RecursiveReplyTest, UnreadableRequestIsSilent)
{
    EXPECT_FALSE(run(make_request("x", 0x19000000, {}, {}, 5), three_).outcome.answered());
}

} // namespace
} // namespace idpath::app
