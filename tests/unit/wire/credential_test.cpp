#include <gtest/gtest.h>

#include <array>

#include "dataplane/wire/credential.hpp"
#include "dataplane/wire/message.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Builder;
using test::Bytes;
using test::span;

// As AbstractMessage.signMessage(Signature) writes it.
Bytes signed_credential()
{
    const Bytes signature(64, 0x5c);
    Builder b;
    b.u8(0).u8(0).u16(0).str("").u32(17).str("HS_SIGNED");
    b.u32(4 + 7 + 4 + 64).str("SHA-256").str(signature);
    return b.bytes();
}

TEST(Credential, DecodesAHandleNetSignature)
{
    const Bytes b = signed_credential();
    auto c = decode_credential(span(b));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->version, 0);
    EXPECT_EQ(c->reserved, 0);
    EXPECT_EQ(c->options, 0);
    EXPECT_TRUE(c->signer_handle.empty());
    EXPECT_EQ(c->signer_index, 17u);
    EXPECT_EQ(as_string_view(c->type), "HS_SIGNED");
    EXPECT_EQ(as_string_view(c->digest_algorithm), "SHA-256");
    ASSERT_EQ(c->signature.size(), 64u);
    EXPECT_EQ(c->signature[63], 0x5c);
}

TEST(Credential, DecodesAMacWithASignerHandle)
{
    Builder b;
    b.u8(1).u8(2).u16(0x0304).str("0.NA/88").u32(300).str("HS_MAC");
    b.u32(4 + 11 + 4 + 32).str("HMAC-SHA256").str(Bytes(32, 1));
    auto c = decode_credential(span(b.bytes()));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->version, 1);
    EXPECT_EQ(c->reserved, 2);
    EXPECT_EQ(c->options, 0x0304);
    EXPECT_EQ(as_string_view(c->signer_handle), "0.NA/88");
    EXPECT_EQ(as_string_view(c->type), "HS_MAC");
    EXPECT_EQ(as_string_view(c->digest_algorithm), "HMAC-SHA256");
    EXPECT_EQ(c->signature.size(), 32u);
}

TEST(Credential, EveryTruncationFails)
{
    const Bytes b = signed_credential();
    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto c = decode_credential(span(p));
        ASSERT_FALSE(c.ok()) << n;
        EXPECT_EQ(test::error_of(c), WireError::Truncated) << n;
    }
}

TEST(Credential, RejectsInconsistentLengths)
{
    struct Case {
        Bytes bytes;
        WireError error;
    };
    auto head = [] {
        Builder b;
        b.u8(0).u8(0).u16(0).str("").u32(0).str("HS_SIGNED");
        return b;
    };
    const Case cases[] = {
        {head().u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {head().u32(100).str("SHA-256").bytes(), WireError::Truncated},
        {head().u32(4 + 7 + 4).str("SHA-256").str("").u8(0).bytes(), WireError::TrailingBytes},
        {head().u32(4 + 7 + 4 + 1).str("SHA-256").str("").u8(0).bytes(), WireError::TrailingBytes},
        {head().u32(4 + 7 + 2).str("SHA-256").u16(0).bytes(), WireError::Truncated},
        {head().u32(8).u32(0xffffffff).u32(0).bytes(), WireError::LengthTooLarge},
        {Builder().u8(0).u8(0).u16(0).u32(0xffffffff).bytes(), WireError::LengthTooLarge},
    };
    for (const Case& c : cases) {
        auto r = decode_credential(span(c.bytes));
        ASSERT_FALSE(r.ok()) << test::to_hex(c.bytes);
        EXPECT_EQ(test::error_of(r), c.error) << test::to_hex(c.bytes);
    }
}

TEST(Credential, ComesOutOfASignedMessage)
{
    Builder m;
    m.u32(1).u32(0).u32(opflag::kCertify).u16(0).u8(0).u8(0).u32(0).u32(4).u32(0);
    const Bytes cred = signed_credential();
    m.u32(static_cast<std::uint32_t>(cred.size())).raw(cred);
    auto msg = decode_message(span(m.bytes()));
    ASSERT_TRUE(msg.ok());
    ASSERT_EQ(msg->credential.size(), cred.size());
    auto c = decode_credential(msg->credential);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(as_string_view(c->type), "HS_SIGNED");
}

} // namespace
} // namespace idpath::wire
