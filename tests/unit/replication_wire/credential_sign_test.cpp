#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "controlplane/replication/credential_sign.hpp"
#include "dataplane/base/bytes_text.hpp"
#include "dataplane/wire/credential.hpp"
#include "dataplane/wire/message.hpp"

namespace idpath::replication {
namespace {

TEST(CredentialSign, SignedDataAt211CarriesTheSuggestedVersion)
{
    wire::Envelope env;
    env.major = 2;
    env.minor = 11;
    env.suggested_major = 2;
    env.suggested_minor = 10;
    env.session_id = 0x01020304;
    env.request_id = 0x0a0b0c0d;
    const std::vector<std::uint8_t> hb = {0xee, 0xff};
    EXPECT_EQ(hex(signed_data(env, 7, hb)), "020b020a" "01020304" "0a0b0c0d" "00000007" "eeff");
}

TEST(CredentialSign, SignedDataBefore28HasNoSuggestedVersion)
{
    wire::Envelope env;
    env.major = 2;
    env.minor = 7;
    env.suggested_major = 2;
    env.suggested_minor = 10;
    env.session_id = 1;
    env.request_id = 2;
    EXPECT_EQ(hex(signed_data(env, 0, {})), "0207" "00000001" "00000002" "00000000");
}

TEST(CredentialSign, CredentialDecodesAsHandleNetWritesIt)
{
    const std::vector<std::uint8_t> sig(256, 0x33);
    const auto c = encode_signed_credential("SHA-256", sig, 5);
    EXPECT_EQ(hex(ByteSpan(c).first(4 + 4 + 4 + 4 + 9 + 4 + 4 + 7 + 4)),
              "00000000" "00000000" "00000005" "00000009" "48535f5349474e4544" "0000010f"
              "00000007" "5348412d323536" "00000100");
    auto v = wire::decode_credential(c);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->signer_index, 5u);
    EXPECT_TRUE(v->signer_handle.empty());
    EXPECT_EQ(as_string_view(v->type), "HS_SIGNED");
    EXPECT_EQ(as_string_view(v->digest_algorithm), "SHA-256");
    EXPECT_EQ(std::vector<std::uint8_t>(v->signature.begin(), v->signature.end()), sig);
}

TEST(CredentialSign, WithCredentialReplacesTheEmptyOne)
{
    std::array<std::uint8_t, 256> buf{};
    wire::MessageWriter w(buf);
    w.body().u8(1);
    wire::Envelope env;
    env.request_id = 9;
    wire::Header h;
    h.opcode = 1002;
    h.response_code = 1;
    const std::size_t n = w.finish(env, h);
    ASSERT_GT(n, 0u);
    const ByteSpan message(buf.data(), n);

    const auto cred = encode_signed_credential("SHA-256", std::vector<std::uint8_t>(8, 1), 0);
    const auto signed_msg = with_credential(message, cred);
    ASSERT_EQ(signed_msg.size(), n + cred.size());
    auto f = wire::decode_frame(signed_msg);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->envelope.message_length, signed_msg.size() - wire::kEnvelopeSize);
    EXPECT_EQ(f->envelope.request_id, 9u);
    auto m = wire::decode_message(f->payload);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.opcode, 1002u);
    EXPECT_EQ(m->body.size(), 1u);
    EXPECT_EQ(std::vector<std::uint8_t>(m->credential.begin(), m->credential.end()), cred);
    // The octets signed_data() covers are untouched by the credential.
    const ByteSpan original_hb = message.subspan(wire::kEnvelopeSize, wire::kHeaderSize + 1);
    EXPECT_TRUE(std::equal(m->header_and_body.begin(), m->header_and_body.end(), original_hb.begin(), original_hb.end()));
}

TEST(CredentialSign, WithCredentialLeavesOtherInputAlone)
{
    const std::vector<std::uint8_t> short_msg = {1, 2, 3};
    EXPECT_EQ(with_credential(short_msg, std::vector<std::uint8_t>{9}), short_msg);
}

} // namespace
} // namespace idpath::replication
