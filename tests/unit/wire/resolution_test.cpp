#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "dataplane/wire/resolution.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Builder;
using test::Bytes;
using test::span;

Bytes filtered_body()
{
    return Builder()
        .str("88.100.1/abc")
        .u32(2)
        .u32(1)
        .u32(100)
        .u32(2)
        .str("URL")
        .str("HS_ADMIN")
        .bytes();
}

TEST(ResolutionRequest, DecodesFilters)
{
    const Bytes b = filtered_body();
    auto req = decode_resolution_request(span(b));
    ASSERT_TRUE(req.ok());
    EXPECT_EQ(as_string_view(req->handle), "88.100.1/abc");
    EXPECT_EQ(req->handle.data(), b.data() + 4);
    EXPECT_FALSE(req->unfiltered());
    ASSERT_EQ(req->index_count, 2u);
    EXPECT_EQ(req->index_at(0), 1u);
    EXPECT_EQ(req->index_at(1), 100u);
    ASSERT_EQ(req->type_count, 2u);
    EXPECT_EQ(req->types.size(), 4u + 3 + 4 + 8);
    TypeListIterator it(*req);
    ByteSpan t;
    ASSERT_TRUE(it.next(t));
    EXPECT_EQ(as_string_view(t), "URL");
    ASSERT_TRUE(it.next(t));
    EXPECT_EQ(as_string_view(t), "HS_ADMIN");
    EXPECT_FALSE(it.next(t));
}

TEST(ResolutionRequest, EncodeIsTheInverseOfDecode)
{
    const std::array<std::uint32_t, 2> indexes{1, 100};
    const std::array<std::string_view, 2> types{"URL", "HS_ADMIN"};
    Bytes out(64);
    ByteWriter w(out);
    encode_resolution_request(w, "88.100.1/abc", indexes, types);
    ASSERT_TRUE(w.ok());
    out.resize(w.size());
    EXPECT_EQ(out, filtered_body());

    Bytes plain(64);
    ByteWriter pw(plain);
    encode_resolution_request(pw, "x/y", {}, {});
    plain.resize(pw.size());
    EXPECT_EQ(test::to_hex(plain), "00000003782f790000000000000000");
    auto req = decode_resolution_request(span(plain));
    ASSERT_TRUE(req.ok());
    EXPECT_TRUE(req->unfiltered());
    TypeListIterator it(*req);
    ByteSpan t;
    EXPECT_FALSE(it.next(t));
}

TEST(ResolutionRequest, EveryTruncationFails)
{
    const Bytes b = filtered_body();
    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto req = decode_resolution_request(span(p));
        ASSERT_FALSE(req.ok()) << n;
        EXPECT_EQ(test::error_of(req), WireError::Truncated) << n;
    }
}

TEST(ResolutionRequest, RejectsBadLengths)
{
    struct Case {
        Bytes bytes;
        WireError error;
    };
    const std::string long_handle(kMaxHandleLength + 1, 'a');
    const std::string max_handle(kMaxHandleLength, 'a');
    const Case cases[] = {
        {Builder().str("").u32(0).u32(0).bytes(), WireError::EmptyHandle},
        {Builder().str(long_handle).u32(0).u32(0).bytes(), WireError::HandleTooLong},
        {Builder().u32(0xffffffff).raw("abc").bytes(), WireError::HandleTooLong},
        {Builder().str("a/b").u32(kMaxArraySize + 1).bytes(), WireError::LengthTooLarge},
        {Builder().str("a/b").u32(0xffffffff).u32(0).bytes(), WireError::LengthTooLarge},
        {Builder().str("a/b").u32(3).u32(1).u32(2).u32(0).bytes(), WireError::Truncated},
        {Builder().str("a/b").u32(0).u32(kMaxArraySize + 1).bytes(), WireError::LengthTooLarge},
        {Builder().str("a/b").u32(0).u32(1000).str("URL").bytes(), WireError::Truncated},
        {Builder().str("a/b").u32(0).u32(1).u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {Builder().str("a/b").u32(0).u32(1).str(long_handle).bytes(), WireError::LengthTooLarge},
        {Builder().str("a/b").u32(0).u32(0).u8(0).bytes(), WireError::TrailingBytes},
        {Builder().str("a/b").u32(1).u32(5).u32(0).str("x").bytes(), WireError::TrailingBytes},
    };
    for (const Case& c : cases) {
        auto req = decode_resolution_request(span(c.bytes));
        ASSERT_FALSE(req.ok()) << test::to_hex(c.bytes).substr(0, 64);
        EXPECT_EQ(test::error_of(req), c.error) << test::to_hex(c.bytes).substr(0, 64);
    }
    auto ok = decode_resolution_request(span(Builder().str(max_handle).u32(0).u32(0).bytes()));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->handle.size(), kMaxHandleLength);
}

HandleValue value(std::uint32_t index, std::string type, std::string data)
{
    HandleValue v;
    v.index = index;
    v.timestamp = 1;
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    return v;
}

Bytes response_body(const std::string& handle, const std::vector<HandleValue>& values)
{
    std::size_t size = 4 + handle.size() + 4;
    for (const HandleValue& v : values)
        size += encoded_size(v);
    Bytes out(size);
    ByteWriter w(out);
    w.string(std::string_view(handle));
    w.u32(static_cast<std::uint32_t>(values.size()));
    for (const HandleValue& v : values)
        encode_value(w, v);
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(w.size(), size);
    return out;
}

TEST(ResolutionResponse, DecodesHandleAndValues)
{
    const std::vector<HandleValue> values = {value(1, "URL", "https://a/"),
                                             value(100, "HS_ADMIN", "\x0f\xff")};
    const Bytes b = response_body("88.100.1/ABC", values);
    auto res = decode_resolution_response(span(b));
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->handle, "88.100.1/ABC");
    EXPECT_EQ(res->values, values);

    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto bad = decode_resolution_response(span(p));
        ASSERT_FALSE(bad.ok()) << n;
        EXPECT_EQ(test::error_of(bad), WireError::Truncated) << n;
    }

    Bytes trailing = b;
    trailing.push_back(0);
    auto bad = decode_resolution_response(span(trailing));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(test::error_of(bad), WireError::TrailingBytes);
}

TEST(ResolutionResponse, RejectsBadCounts)
{
    auto r = decode_resolution_response(span(Builder().str("a/b").u32(2049).bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::TooManyValues);
    r = decode_resolution_response(span(Builder().u32(4000).bytes()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(test::error_of(r), WireError::HandleTooLong);
    r = decode_resolution_response(span(Builder().str("").u32(0).bytes()));
    ASSERT_TRUE(r.ok()); // HANDLE.NET allows an empty handle here
    EXPECT_TRUE(r->values.empty());
}

} // namespace
} // namespace idpath::wire
