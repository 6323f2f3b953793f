// The pure half of idpathd's DPDK mode setup: which ports and addresses the workers serve and
// how vdev arguments are read.
#include <gtest/gtest.h>

#include "controlplane/app/dataplane_config.hpp"
#include "controlplane/config/config.hpp"

namespace idpath::app {
namespace {

config::Config with_udp(std::vector<std::string> endpoints)
{
    config::Config c;
    c.service.udp.clear();
    for (const auto& e : endpoints)
        c.service.udp.push_back(*socket::parse_endpoint(e, 2641));
    return c;
}

TEST(DataplanePortsTest, ServiceUdpPortsOnceEach)
{
    EXPECT_EQ(dataplane_ports(with_udp({"0.0.0.0:2641", "[::]:2641", "192.0.2.1:8000"})),
              (std::vector<std::uint16_t>{2641, 8000}));
}

TEST(DataplanePortsTest, NoUdpListenersMeans2641)
{
    EXPECT_EQ(dataplane_ports(with_udp({})), std::vector<std::uint16_t>{2641});
    // Port 0 asks the kernel for any port: meaningless to a data plane, so it is left out.
    EXPECT_EQ(dataplane_ports(with_udp({"127.0.0.1:0"})), std::vector<std::uint16_t>{2641});
}

TEST(VdevArgsTest, IfaceAndKeys)
{
    EXPECT_EQ(vdev_iface("net_af_xdp0,iface=eth1"), "eth1");
    EXPECT_EQ(vdev_iface("net_af_xdp0,iface=eth1,start_queue=0"), "eth1");
    EXPECT_EQ(vdev_iface("net_af_xdp0,start_queue=0,iface=veth-x"), "veth-x");
    EXPECT_EQ(vdev_iface("net_null0"), "");
    EXPECT_EQ(vdev_iface("0000:01:00.0"), "");
    EXPECT_TRUE(has_vdev_arg("net_af_xdp0,iface=eth1,xdp_prog=/x.o", "xdp_prog"));
    EXPECT_FALSE(has_vdev_arg("net_af_xdp0,iface=eth1", "xdp_prog"));
    EXPECT_FALSE(has_vdev_arg("net_af_xdp0,iface=xdp_prog", "xdp_prog"));
    EXPECT_FALSE(has_vdev_arg("net_af_xdp0,xdp_program=/x.o", "xdp_prog"));
}

TEST(AddAddressesTest, FillsBothFamilies)
{
    packet::PacketConfig pc;
    ASSERT_TRUE(add_addresses(pc, {"192.0.2.1"}, {"2001:db8::1", "fe80::1"}));
    EXPECT_EQ(pc.ipv4_count, 1);
    EXPECT_EQ(pc.ipv6_count, 2);
    const std::uint8_t v4[4] = {192, 0, 2, 1};
    EXPECT_TRUE(pc.is_our_ipv4(v4));
    EXPECT_EQ(pc.ipv6[1][0], 0xfe);
}

TEST(AddAddressesTest, RejectsBadAndTooMany)
{
    packet::PacketConfig pc;
    const auto bad = add_addresses(pc, {"192.0.2.300"}, {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "192.0.2.300 is not an IPv4 address");
    packet::PacketConfig full;
    const auto many =
        add_addresses(full, {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}, {});
    ASSERT_FALSE(many);
    EXPECT_NE(many.error().find("10.0.0.5"), std::string::npos);
}

} // namespace
} // namespace idpath::app
