// --xdp's address, range and MAC syntax (perf/gun/xdp_args.*), and the options that use them.
#include "perf/gun/xdp_args.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "perf/gun/options.hpp"
#include "result_text.hpp"

namespace idpath::gun {
namespace {

TEST(XdpArgs, Mac)
{
    const auto m = parse_mac("02:00:5E:10:00:ff");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, (packet::MacAddress{0x02, 0x00, 0x5e, 0x10, 0x00, 0xff}));
    EXPECT_TRUE(parse_mac("02-00-5e-10-00-01"));
    for (const char* bad : {"", "02:00:5e:10:00", "02:00:5e:10:00:01:", "02:00:5e:10:00:0g", "0200:5e:10:00:01:"})
        EXPECT_FALSE(parse_mac(bad)) << bad;
}

TEST(XdpArgs, AddressRanges)
{
    auto r = parse_address_range("192.0.2.10-192.0.2.19");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ipv6);
    EXPECT_EQ(r->count, 10u);
    EXPECT_EQ(r->at(0)[15], 10);
    EXPECT_EQ(r->at(9)[15], 19);
    EXPECT_EQ(r->at(10)[15], 10);
    EXPECT_EQ(r->at(0)[10], 0xff); // IPv4-mapped

    r = parse_address_range("198.51.100.77/24");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count, 256u);
    EXPECT_EQ(r->at(0)[15], 0);
    EXPECT_EQ(r->at(0)[14], 100);

    r = parse_address_range("2001:db8::1-2001:db8::100");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ipv6);
    EXPECT_EQ(r->count, 256u);
    EXPECT_EQ(r->at(255)[14], 1);
    EXPECT_EQ(r->at(255)[15], 0);

    r = parse_address_range("2001:db8::/64");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count, kMaxAddressRange);

    r = parse_address_range("192.0.2.2");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count, 1u);
    EXPECT_EQ(r->at(5)[15], 2);

    for (const char* bad : {"", "192.0.2.9-192.0.2.1", "192.0.2.1-2001:db8::1", "2001:db8::1-2001:db9::1",
                            "192.0.2.0/33", "192.0.2.0/0", "2001:db8::/48", "10.0.0.0/x", "host", "1.2.3.4-"})
        EXPECT_FALSE(parse_address_range(bad)) << bad;
}

TEST(XdpArgs, PortRanges)
{
    const auto r = parse_port_range("2000-65535");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 2000);
    EXPECT_EQ(r->last, 65535);
    EXPECT_EQ(r->size(), 63536u);
    EXPECT_EQ(parse_port_range("5000")->size(), 1u);
    for (const char* bad : {"", "0-10", "10-9", "1-65536", "a-b", "-5", "5-"})
        EXPECT_FALSE(parse_port_range(bad)) << bad;
}

Result<Options, std::string> parse(std::initializer_list<std::string_view> args)
{
    const std::vector<std::string_view> v(args);
    return parse_options(v);
}

TEST(XdpOptions, Accepted)
{
    const auto r = parse({"--handle", "1/a", "--xdp", "veth0", "--queues", "2", "--dst-mac", "02:00:00:00:00:01",
                          "--src-ip", "192.0.2.0/28", "--src-ports", "3000-3999", "192.0.2.1"});
    ASSERT_TRUE(r.ok()) << error_text(r);
    EXPECT_TRUE(r->xdp());
    EXPECT_EQ(r->xdp_iface, "veth0");
    EXPECT_EQ(r->queues, 2u);
    ASSERT_TRUE(r->dst_mac);
    EXPECT_EQ(r->src_ip4.count, 16u);
    EXPECT_EQ(r->src_ip6.count, 0u);
    EXPECT_FALSE(r->mixed());
    EXPECT_EQ(r->src_ports.first, 3000);
    const auto d = parse({"--handle", "1/a", "--xdp", "veth0", "192.0.2.1"});
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->queues, 0u); // all of them
    EXPECT_EQ(d->src_ports.first, 2000);
    EXPECT_EQ(d->src_ports.last, 65535);
    EXPECT_EQ(d->src_ip4.count, 0u);
}

TEST(XdpOptions, MixedServersOneOfEachFamilyEitherOrder)
{
    const auto r = parse({"--handle", "1/a", "--xdp", "veth0", "--src-ip", "192.0.2.2", "--src-ip",
                          "2001:db8:1::2-2001:db8:1::5", "--dst-mac", "02:00:00:00:00:01", "192.0.2.1",
                          "[2001:db8:1::1]:2642"});
    ASSERT_TRUE(r.ok()) << error_text(r);
    EXPECT_TRUE(r->mixed());
    EXPECT_EQ(r->server, "192.0.2.1");
    EXPECT_EQ(r->server2, "[2001:db8:1::1]:2642");
    EXPECT_EQ(r->src_ip(false).count, 1u);
    EXPECT_FALSE(r->src_ip(false).ipv6);
    EXPECT_EQ(r->src_ip(true).count, 4u);
    EXPECT_TRUE(r->src_ip(true).ipv6);
    // IPv6 first, one --src-ip only (the other family takes the interface's address).
    const auto v6_first = parse({"--handle", "1/a", "--xdp=veth0", "--src-ip=2001:db8:1::/120", "2001:db8:1::1",
                                 "192.0.2.1:2641"});
    ASSERT_TRUE(v6_first.ok()) << error_text(v6_first);
    EXPECT_EQ(v6_first->server, "2001:db8:1::1");
    EXPECT_EQ(v6_first->server2, "192.0.2.1:2641");
    EXPECT_EQ(v6_first->src_ip6.count, 256u);
    EXPECT_EQ(v6_first->src_ip4.count, 0u);
    const auto plain = parse({"--handle", "1/a", "--xdp", "veth0", "[::1]", "127.0.0.1"});
    ASSERT_TRUE(plain.ok()) << error_text(plain);
    EXPECT_TRUE(plain->mixed());
}

TEST(XdpOptions, MixedServersRefused)
{
    const auto error_of = [](std::initializer_list<std::string_view> args) { return error_text(parse(args)); };
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "192.0.2.1", "192.0.2.9:2641"}),
              "two SERVERs of one family ('192.0.2.1' and '192.0.2.9:2641' are both IPv4): give one IPv4 and one "
              "IPv6 address");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "[2001:db8::1]:2641", "::1"}),
              "two SERVERs of one family ('[2001:db8::1]:2641' and '::1' are both IPv6): give one IPv4 and one "
              "IPv6 address");
    // --src-ip of a family no SERVER has, with one SERVER or two.
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--src-ip", "2001:db8:1::2", "192.0.2.1"}),
              "--src-ip: an IPv6 range, but no IPv6 SERVER");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--src-ip", "192.0.2.0/30", "[2001:db8:1::1]:2641"}),
              "--src-ip: an IPv4 range, but no IPv4 SERVER");
    // Once per family.
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--src-ip", "192.0.2.2", "--src-ip", "192.0.2.3",
                        "192.0.2.1", "::1"}),
              "--src-ip: one range per address family, got two IPv4 ranges");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--src-ip", "::2", "--src-ip", "::3", "192.0.2.1",
                        "::1"}),
              "--src-ip: one range per address family, got two IPv6 ranges");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "192.0.2.1", "::1", "::2"}),
              "two SERVERs at most (one per address family), got '::2' too");
    // A SERVER that is no address is main()'s to name; the family checks leave it alone.
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--src-ip", "::2", "server.example", "::1"}), "(ok)");
}

TEST(XdpOptions, ServerFamilyAsWritten)
{
    EXPECT_EQ(server_is_ipv6("192.0.2.1"), false);
    EXPECT_EQ(server_is_ipv6("192.0.2.1:2641"), false);
    EXPECT_EQ(server_is_ipv6("::1"), true);
    EXPECT_EQ(server_is_ipv6("[::1]"), true);
    EXPECT_EQ(server_is_ipv6("[2001:db8::1]:2641"), true);
    EXPECT_EQ(server_is_ipv6("[192.0.2.1]:2641"), std::nullopt);
    EXPECT_EQ(server_is_ipv6("server.example"), std::nullopt);
    EXPECT_EQ(server_is_ipv6("[::1"), std::nullopt);
    EXPECT_EQ(server_is_ipv6(""), std::nullopt);
}

TEST(XdpOptions, Refused)
{
    const auto error_of = [](std::initializer_list<std::string_view> args) { return error_text(parse(args)); };
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--tcp", "192.0.2.1"}),
              "--tcp: not with --xdp (AF_XDP sends UDP)");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--sockets", "2", "192.0.2.1"}),
              "--sockets: not with --xdp (one flow and thread per queue; use --queues)");
    EXPECT_EQ(error_of({"--handle", "1/a", "--queues", "2", "192.0.2.1"}),
              "--queues, --dst-mac, --src-ip and --src-ports need --xdp IFACE");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--queues", "0", "192.0.2.1"}),
              "--queues: must be an integer 1..256, got '0'");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--dst-mac", "nope", "192.0.2.1"}),
              "--dst-mac: must be a MAC address like 02:00:5e:10:00:01, got 'nope'");
    EXPECT_EQ(error_of({"--handle", "1/a", "--xdp", "veth0", "--src-ports", "9-8", "192.0.2.1"}),
              "--src-ports: must be LO-HI with 1 <= LO <= HI <= 65535, got '9-8'");
    EXPECT_NE(error_of({"--handle", "1/a", "--xdp", "veth0", "--src-ip", "1.2.3.4-1.2.3.0", "192.0.2.1"})
                  .find("--src-ip: must be A-B"),
              std::string::npos);
    EXPECT_NE(error_of({"--handle", "1/a", "--xdp", "a-very-long-interface-name", "192.0.2.1"}).find("--xdp:"),
              std::string::npos);
}

} // namespace
} // namespace idpath::gun
