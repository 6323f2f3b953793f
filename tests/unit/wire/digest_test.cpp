#include <gtest/gtest.h>

#include <array>

#include "dataplane/wire/digest.hpp"
#include "dataplane/wire/response.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

TEST(RequestDigest, WritesTypeThreeAndSha256)
{
    std::array<std::uint8_t, kRequestDigestSize + 1> out{};
    ByteWriter w(out);
    write_request_digest(w, as_bytes("abc"));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w.size(), kRequestDigestSize);
    // FIPS 180-2 appendix B.1.
    EXPECT_EQ(test::to_hex(w.written()),
              "03ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    // What a client's decode_request_digest reads back.
    ByteReader r(w.written());
    auto d = decode_request_digest(r);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->type, DigestType::Sha256);
    EXPECT_EQ(test::to_hex(d->digest),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_TRUE(r.at_end());
}

TEST(RequestDigest, EmptyInputHashesToo)
{
    std::array<std::uint8_t, kRequestDigestSize> out{};
    ByteWriter w(out);
    write_request_digest(w, {});
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(test::to_hex(w.written()),
              "03e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(RequestDigest, DoesNotOverrunASmallWriter)
{
    std::array<std::uint8_t, kRequestDigestSize + 4> out{};
    out.fill(0xee);
    ByteWriter w(std::span<std::uint8_t>(out.data(), kRequestDigestSize - 1));
    write_request_digest(w, as_bytes("abc"));
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(w.size(), 0u);
    for (std::uint8_t b : out)
        EXPECT_EQ(b, 0xee);
}

} // namespace
} // namespace idpath::wire
