#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/wire/admin_values.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Builder;
using test::Bytes;
using test::span;

TEST(AdminRecord, EncodesInt2PermissionsHandleAndIndex)
{
    AdminRecord a;
    a.permissions = admin_perm::kAll;
    a.admin_handle = "0.NA/88.100.1";
    a.admin_index = 200;
    const Bytes expected = Builder().u16(0x0fff).str("0.NA/88.100.1").u32(200).bytes();
    EXPECT_EQ(encode_admin_record(a), expected);
    Bytes out(64);
    ByteWriter w(out);
    encode_admin_record(w, a);
    out.resize(w.size());
    EXPECT_EQ(out, expected);

    auto back = decode_admin_record(span(expected));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, a);
}

TEST(AdminRecord, AcceptsBothLegacyLayouts)
{
    // HANDLE.NET's legacyByteLength: int2 permissions, then two octets of padding at the end.
    const Bytes padded = Builder().u16(0x0073).str("0.NA/88").u32(300).u16(0).bytes();
    auto a = decode_admin_record(span(padded));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->permissions, 0x0073);
    EXPECT_EQ(a->admin_handle, "0.NA/88");
    EXPECT_EQ(a->admin_index, 300u);

    // A 4-octet permission field in front.
    const Bytes wide = Builder().u32(admin_perm::kListDerivedPrefixes | admin_perm::kAddHandle)
                           .str("0.NA/88")
                           .u32(300)
                           .bytes();
    ASSERT_EQ(wide.size(), padded.size());
    a = decode_admin_record(span(wide));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->permissions, 0x1001);
    EXPECT_EQ(a->admin_handle, "0.NA/88");
    EXPECT_EQ(a->admin_index, 300u);
}

TEST(AdminRecord, RejectsTruncationAndTrailingOctets)
{
    const Bytes b = Builder().u16(0x0fff).str("0.NA/88.100.1").u32(200).bytes();
    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto a = decode_admin_record(span(p));
        ASSERT_FALSE(a.ok()) << n;
        EXPECT_EQ(test::error_of(a), WireError::Truncated) << n;
    }
    for (std::size_t extra : {1u, 3u, 4u}) {
        Bytes t = b;
        t.insert(t.end(), extra, 0);
        auto a = decode_admin_record(span(t));
        ASSERT_FALSE(a.ok()) << extra;
        EXPECT_EQ(test::error_of(a), WireError::TrailingBytes) << extra;
    }
    auto a = decode_admin_record(
        span(Builder().u16(1).str(std::string(kMaxHandleLength + 1, 'h')).u32(1).bytes()));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(test::error_of(a), WireError::HandleTooLong);
    a = decode_admin_record(span(Builder().u16(1).u32(0xffffffff).u32(1).bytes()));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(test::error_of(a), WireError::HandleTooLong);
}

TEST(ValueReferenceList, RoundTrips)
{
    const std::vector<Reference> refs = {{"0.NA/88.100.1", 200}, {"88.100.1/admins", 300}};
    const Bytes expected =
        Builder().u32(2).str("0.NA/88.100.1").u32(200).str("88.100.1/admins").u32(300).bytes();
    EXPECT_EQ(encode_value_reference_list(refs), expected);
    auto back = decode_value_reference_list(span(expected));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, refs);

    EXPECT_EQ(encode_value_reference_list({}), Builder().u32(0).bytes());
    auto empty = decode_value_reference_list(span(Builder().u32(0).bytes()));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());

    for (std::size_t n = 0; n < expected.size(); ++n) {
        const Bytes p(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(n));
        auto bad = decode_value_reference_list(span(p));
        ASSERT_FALSE(bad.ok()) << n;
        EXPECT_EQ(test::error_of(bad), WireError::Truncated) << n;
    }
}

TEST(ValueReferenceList, RejectsBadCountsAndTrailingOctets)
{
    auto r = decode_value_reference_list(span(Builder().u32(0xffffffff).bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::LengthTooLarge);
    r = decode_value_reference_list(span(Builder().u32(1000).zeros(80).bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::Truncated);
    r = decode_value_reference_list(span(Builder().u32(1).str("a").u32(1).u8(0).bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TrailingBytes);
    r = decode_value_reference_list(span(Builder().u32(1).u32(0xffffffff).u32(0).bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::HandleTooLong);
}

} // namespace
} // namespace idpath::wire
