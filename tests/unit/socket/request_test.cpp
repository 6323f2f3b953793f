// encode_request() reproduces HANDLE.NET 9.2's client byte for byte (shared vectors).

#include <gtest/gtest.h>

#include "drivers/socket/request.hpp"

namespace idpath::socket {
namespace {

std::vector<std::uint8_t> from_hex(std::string_view h)
{
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

// tests/data/vectors/resolution-request-88.100.1-abc{,-filtered}.hex
constexpr std::string_view kPlain = "020b020b000000001234567800000000000000340000000100000000190000"
                                    "000000000077359400000000180000000c"
                                    "38382e3130302e312f616263000000000000000000000000";
constexpr std::string_view kFiltered =
    "020b020b0000000012345678000000000000004f000000010000000019000000000000007735940000000033000000"
    "0c"
    "38382e3130302e312f616263000000020000000100000064000000020000000355524c0000000848535f41444d494e"
    "00000000";

RequestSpec spec_88_100_1_abc()
{
    RequestSpec s;
    s.handle = "88.100.1/abc";
    s.request_id = 0x12345678;
    s.expiration = 2000000000;
    return s;
}

TEST(EncodeRequest, MatchesTheHandleNetClient)
{
    const auto r = encode_request(spec_88_100_1_abc());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, from_hex(kPlain));
}

TEST(EncodeRequest, MatchesTheHandleNetClientWithFilters)
{
    RequestSpec s = spec_88_100_1_abc();
    s.indexes = {1, 100};
    s.types = {"URL", "HS_ADMIN"};
    const auto r = encode_request(s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, from_hex(kFiltered));
}

TEST(EncodeRequest, GenericOpcodesCarryTheHandleOnly)
{
    RequestSpec s = spec_88_100_1_abc();
    s.opcode = 2; // GET_SITE_INFO
    const auto r = encode_request(s);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 20u + 24u + 4u + 12u + 4u);
    EXPECT_EQ(load_be32(r->data() + 20), 2u);
    EXPECT_EQ(load_be32(r->data() + 40), 16u); // BodyLength: the String alone
}

TEST(EncodeRequest, HeaderAndBodyIsWhatTheDigestCovers)
{
    const auto r = encode_request(spec_88_100_1_abc());
    ASSERT_TRUE(r.ok());
    const ByteSpan hb = request_header_and_body(*r);
    EXPECT_EQ(hb.data(), r->data() + 20);
    EXPECT_EQ(hb.size(), 24u + 24u);
    EXPECT_TRUE(request_header_and_body(ByteSpan(*r).first(30)).empty());
}

TEST(EncodeRequest, RefusesHandlesAboveTheLimit)
{
    RequestSpec s;
    s.handle.assign(wire::kMaxHandleLength + 1, 'x');
    EXPECT_FALSE(encode_request(s).ok());
}

} // namespace
} // namespace idpath::socket
