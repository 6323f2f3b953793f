#include <gtest/gtest.h>

#include <array>
#include <string>

#include "dataplane/wire/site_info.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Builder;
using test::Bytes;
using test::span;

// HANDLE.NET's default single-server site (SiteInfo constructor), on 192.0.2.1.
SiteInfo default_site()
{
    SiteInfo s;
    s.serial = 3;
    s.attributes = {{"desc", "test site"}};
    SiteServer srv;
    srv.server_id = 1;
    srv.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1};
    srv.public_key = {0, 0, 0, 11, 'R', 'S', 'A', '_', 'P', 'U', 'B', '_', 'K', 'E', 'Y'};
    srv.interfaces = {{site::kInterfaceAdminAndQuery, site::kProtocolTcp, 2641},
                      {site::kInterfaceQuery, site::kProtocolUdp, 2641},
                      {site::kInterfaceAdminAndQuery, site::kProtocolHttp, 8000}};
    s.servers.push_back(srv);
    return s;
}

Bytes default_site_bytes()
{
    return Builder()
        .u16(1)  // data format version
        .u8(2)   // major
        .u8(11)  // minor
        .u16(3)  // serial
        .u8(0x80)
        .u8(2)   // hash by handle
        .str("") // hash filter
        .u32(1)
        .str("desc")
        .str("test site")
        .u32(1)
        .u32(1)
        .zeros(12)
        .u8(192)
        .u8(0)
        .u8(2)
        .u8(1)
        .u32(15)
        .u32(11)
        .raw("RSA_PUB_KEY")
        .u32(3)
        .u8(3)
        .u8(1)
        .u32(2641)
        .u8(2)
        .u8(0)
        .u32(2641)
        .u8(3)
        .u8(2)
        .u32(8000)
        .bytes();
}

TEST(SiteInfo, EncodesTheHandleNetLayout)
{
    const Bytes expected = default_site_bytes();
    EXPECT_EQ(encode_site_info(default_site()), expected);
    Bytes out(expected.size() + 8);
    ByteWriter w(out);
    encode_site_info(w, default_site());
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w.size(), expected.size());
}

TEST(SiteInfo, DecodesTheHandleNetLayout)
{
    auto s = decode_site_info(span(default_site_bytes()));
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s, default_site());
    EXPECT_TRUE(s->is_primary());
    ASSERT_EQ(s->servers.size(), 1u);
    EXPECT_TRUE(s->servers[0].is_ipv4());
    EXPECT_EQ(format_site_address(s->servers[0].address), "192.0.2.1");
    EXPECT_EQ(s->servers[0].interfaces[2].port, 8000u);
}

TEST(SiteInfo, RoundTripsAnIpv6MultiServerSite)
{
    SiteInfo s;
    s.primary_mask = site::kMultiPrimaryMask;
    s.hash_option = site::kHashBySuffix;
    s.hash_filter = {'x'};
    s.attributes = {{"alt_addr.1", "2001:db8::2"}, {"", ""}};
    for (std::uint32_t id = 1; id <= 3; ++id) {
        SiteServer srv;
        srv.server_id = id;
        ASSERT_TRUE(parse_site_address("2001:db8::" + std::to_string(id), srv.address));
        if (id == 2)
            srv.interfaces = {{site::kInterfaceQuery, site::kProtocolUdp, 2641}};
        s.servers.push_back(srv);
    }
    const Bytes b = encode_site_info(s);
    auto back = decode_site_info(span(b));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
    EXPECT_FALSE(back->is_primary());
    EXPECT_FALSE(back->servers[0].is_ipv4());
    EXPECT_EQ(format_site_address(back->servers[2].address), "2001:db8::3");
}

TEST(SiteInfo, EveryTruncationFails)
{
    const Bytes b = default_site_bytes();
    for (std::size_t n = 0; n < b.size(); ++n) {
        const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        auto s = decode_site_info(span(p));
        ASSERT_FALSE(s.ok()) << n;
        EXPECT_EQ(test::error_of(s), WireError::Truncated) << n;
    }
}

TEST(SiteInfo, RejectsTrailingOctets)
{
    Bytes b = default_site_bytes();
    b.push_back(0);
    auto s = decode_site_info(span(b));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(test::error_of(s), WireError::TrailingBytes);
}

Builder site_prefix()
{
    Builder b;
    b.u16(1).u8(2).u8(11).u16(1).u8(0x80).u8(2);
    return b;
}

TEST(SiteInfo, RejectsBadCounts)
{
    struct Case {
        Bytes bytes;
        WireError error;
    };
    const Case cases[] = {
        {site_prefix().u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {site_prefix().str("").u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {site_prefix().str("").u32(kMaxArraySize + 1).zeros(64).bytes(), WireError::LengthTooLarge},
        {site_prefix().str("").u32(100).zeros(64).bytes(), WireError::Truncated},
        {site_prefix().str("").u32(1).u32(0xffffffff).u32(0).bytes(), WireError::LengthTooLarge},
        {site_prefix().str("").u32(0).u32(0xffffffff).bytes(), WireError::LengthTooLarge},
        {site_prefix().str("").u32(0).u32(1000).zeros(28 * 10).bytes(), WireError::Truncated},
        {site_prefix().str("").u32(0).u32(1).u32(1).zeros(16).u32(0xffffffff).u32(0).bytes(),
         WireError::LengthTooLarge},
        {site_prefix().str("").u32(0).u32(1).u32(1).zeros(16).str("").u32(2).zeros(11).bytes(),
         WireError::Truncated},
        {site_prefix().str("").u32(0).u32(1).u32(1).zeros(16).str("").u32(0xffffffff).bytes(),
         WireError::LengthTooLarge},
        {site_prefix().str("").u32(0).u32(0).u8(0).bytes(), WireError::TrailingBytes},
    };
    for (const Case& c : cases) {
        auto s = decode_site_info(span(c.bytes));
        ASSERT_FALSE(s.ok()) << test::to_hex(c.bytes);
        EXPECT_EQ(test::error_of(s), c.error) << test::to_hex(c.bytes);
    }
    auto empty = decode_site_info(span(site_prefix().str("").u32(0).u32(0).bytes()));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->servers.empty());
}

TEST(SiteAddress, ParsesIpv4IntoTheIpv4CompatibleForm)
{
    std::array<std::uint8_t, 16> a{};
    ASSERT_TRUE(parse_site_address("192.0.2.1", a));
    EXPECT_EQ(test::to_hex(a), "000000000000000000000000c0000201");
    SiteServer s;
    s.address = a;
    EXPECT_TRUE(s.is_ipv4());
    EXPECT_EQ(format_site_address(a), "192.0.2.1");

    // Java's InetAddress makes a v4-mapped address an Inet4Address; HANDLE.NET stores it the same.
    ASSERT_TRUE(parse_site_address("::ffff:198.51.100.7", a));
    EXPECT_EQ(test::to_hex(a), "000000000000000000000000c6336407");
}

TEST(SiteAddress, ParsesIpv6)
{
    std::array<std::uint8_t, 16> a{};
    ASSERT_TRUE(parse_site_address("2001:db8::1", a));
    EXPECT_EQ(test::to_hex(a), "20010db8000000000000000000000001");
    SiteServer s;
    s.address = a;
    EXPECT_FALSE(s.is_ipv4());
    EXPECT_EQ(format_site_address(a), "2001:db8::1");
}

TEST(SiteAddress, RejectsNonAddressesAndLeavesOutputAlone)
{
    std::array<std::uint8_t, 16> a{};
    a.fill(0x11);
    for (const std::string& text :
         {std::string(""), std::string("example.org"), std::string("192.0.2"),
          std::string("192.0.2.1 "), std::string("1.2.3.4\0", 8), std::string("2001:db8:::1")}) {
        EXPECT_FALSE(parse_site_address(text, a)) << text;
    }
    EXPECT_EQ(a[0], 0x11);
}

} // namespace
} // namespace idpath::wire
