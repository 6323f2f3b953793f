#include <gtest/gtest.h>

#include <vector>

#include "dataplane/wire/value.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Builder;
using test::Bytes;
using test::span;

HandleValue url_value()
{
    HandleValue v;
    v.index = 1;
    v.timestamp = 1700000000;
    v.ttl_type = TtlType::Relative;
    v.ttl = 86400;
    v.permissions = perm::kDefault;
    v.type = "URL";
    const std::string data = "https://example.org/";
    v.data.assign(data.begin(), data.end());
    v.references = {{"0.NA/88.100.1", 200}, {"", 7}};
    return v;
}

Bytes url_value_bytes()
{
    return Builder()
        .u32(1)
        .u32(1700000000)
        .u8(0)
        .u32(86400)
        .u8(0x0e)
        .str("URL")
        .str("https://example.org/")
        .u32(2)
        .str("0.NA/88.100.1")
        .u32(200)
        .str("")
        .u32(7)
        .bytes();
}

TEST(Value, EncodesFieldByField)
{
    const HandleValue v = url_value();
    const Bytes expected = url_value_bytes();
    EXPECT_EQ(encoded_size(v), expected.size());
    Bytes out(encoded_size(v));
    ByteWriter w(out);
    encode_value(w, v);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w.size(), out.size());
    EXPECT_EQ(out, expected);
}

TEST(Value, DecodesInPlaceAndAdvances)
{
    Bytes b = url_value_bytes();
    const std::size_t value_size = b.size();
    b.push_back(0x99); // whatever follows is left to the caller
    ByteReader r(span(b));
    auto v = decode_value(r);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(r.position(), value_size);
    EXPECT_EQ(v->index, 1u);
    EXPECT_EQ(v->timestamp, 1700000000u);
    EXPECT_EQ(v->ttl_type, 0);
    EXPECT_EQ(v->ttl, 86400u);
    EXPECT_EQ(v->permissions, 0x0e);
    EXPECT_EQ(as_string_view(v->type), "URL");
    EXPECT_EQ(as_string_view(v->data), "https://example.org/");
    EXPECT_EQ(v->reference_count, 2u);
    EXPECT_EQ(v->references.size(), 4u + 13 + 4 + 4 + 0 + 4);
    EXPECT_EQ(v->encoded.data(), b.data());
    EXPECT_EQ(v->encoded.size(), value_size);
    EXPECT_EQ(v->type.data(), b.data() + kValueTypeOffset + 4);
    EXPECT_EQ(to_owned(*v), url_value());
}

TEST(Value, RoundTripsWithoutReferences)
{
    HandleValue v;
    v.index = 100;
    v.ttl_type = TtlType::Absolute;
    v.ttl = 0xffffffff;
    v.permissions = perm::kAdminRead | perm::kAdminWrite;
    v.type = "HS_ADMIN";
    v.data = {0x0f, 0xff};
    Bytes out(encoded_size(v));
    ByteWriter w(out);
    encode_value(w, v);
    ASSERT_EQ(out.size(), kValueFixedSize + 8 + 2);
    ByteReader r(span(out));
    auto back = decode_value(r);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(back->references.size(), 0u);
    EXPECT_EQ(to_owned(*back), v);
}

TEST(Value, EveryTruncationFails)
{
    const Bytes b = url_value_bytes();
    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        ByteReader r(span(p));
        auto v = decode_value(r);
        ASSERT_FALSE(v.ok()) << n;
        EXPECT_EQ(test::error_of(v), WireError::Truncated) << n;
    }
}

Builder value_prefix()
{
    Builder b;
    b.u32(1).u32(0).u8(0).u32(0).u8(0x0e);
    return b;
}

TEST(Value, RejectsLengthsAndCountsOnTheirOwn)
{
    struct Case {
        Bytes bytes;
        WireError error;
    };
    const Case cases[] = {
        {value_prefix().u32(0xffffffff).raw("URL").bytes(), WireError::LengthTooLarge},
        {value_prefix().u32(kMaxHandleLength + 1).zeros(kMaxHandleLength + 20).bytes(),
         WireError::LengthTooLarge},
        {value_prefix().str("URL").u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {value_prefix().str("URL").u32(100).zeros(10).bytes(), WireError::Truncated},
        {value_prefix().str("URL").str("x").u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {value_prefix().str("URL").str("x").u32(1000).zeros(100).bytes(), WireError::Truncated},
        {value_prefix().str("URL").str("x").u32(1).u32(0xffffffff).u32(1).bytes(),
         WireError::LengthTooLarge},
        {value_prefix().str("URL").str("x").u32(1).u32(5).raw("ab").u32(1).bytes(),
         WireError::Truncated},
    };
    for (const Case& c : cases) {
        ByteReader r(span(c.bytes));
        auto v = decode_value(r);
        ASSERT_FALSE(v.ok()) << test::to_hex(c.bytes);
        EXPECT_EQ(test::error_of(v), c.error) << test::to_hex(c.bytes);
    }
}

TEST(ValueList, RoundTrips)
{
    HandleValue second;
    second.index = 2;
    second.type = "EMAIL";
    second.data = {'a', '@', 'b'};
    Builder b;
    b.u32(2).raw(url_value_bytes());
    Bytes second_bytes(encoded_size(second));
    ByteWriter w(second_bytes);
    encode_value(w, second);
    b.raw(second_bytes);

    ByteReader r(span(b.bytes()));
    auto list = decode_value_list(r);
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(r.at_end());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0], url_value());
    EXPECT_EQ((*list)[1], second);

    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.bytes().begin(), b.bytes().begin() + static_cast<std::ptrdiff_t>(n));
        ByteReader pr(span(p));
        auto bad = decode_value_list(pr);
        ASSERT_FALSE(bad.ok()) << n;
        EXPECT_EQ(test::error_of(bad), WireError::Truncated) << n;
    }
}

TEST(ValueList, BoundsTheCountBeforeAllocating)
{
    Bytes b = Builder().u32(kMaxValues + 1).bytes();
    ByteReader r1(span(b));
    auto l = decode_value_list(r1);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(test::error_of(l), WireError::TooManyValues);

    b = Builder().u32(0xffffffff).bytes();
    ByteReader r2(span(b));
    l = decode_value_list(r2);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(test::error_of(l), WireError::TooManyValues);

    // 2048 values claimed, room for one.
    b = Builder().u32(kMaxValues).raw(url_value_bytes()).bytes();
    ByteReader r3(span(b));
    l = decode_value_list(r3);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(test::error_of(l), WireError::Truncated);

    b = Builder().u32(0).bytes();
    ByteReader r4(span(b));
    l = decode_value_list(r4);
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(l->empty());
}

TEST(Value, PermissionsString)
{
    EXPECT_EQ(permissions_string(perm::kDefault), "rwr-");
    EXPECT_EQ(permissions_string(0x0f), "rwrw");
    EXPECT_EQ(permissions_string(0), "----");
    EXPECT_EQ(permissions_string(perm::kPublicRead), "--r-");
    EXPECT_EQ(permissions_string(perm::kPublicWrite | perm::kAdminRead), "r--w");
}

} // namespace
} // namespace idpath::wire
