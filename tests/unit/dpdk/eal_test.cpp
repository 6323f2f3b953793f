#include "drivers/dpdk/eal.hpp"

#include <gtest/gtest.h>

namespace idpath::dpdk {
namespace {

TEST(EalArguments, FromOptions)
{
    EalOptions o;
    o.file_prefix = "t1";
    o.lcores = "0-1";
    o.no_huge = true;
    o.memory_mb = 128;
    o.no_pci = true;
    o.vdevs = {"net_null0", "net_ring0"};
    std::vector<std::string> expect{"idpathd", "--file-prefix=t1", "--lcores=0-1", "--log-level=5", "--no-huge",
                                          "-m128", "--no-pci", "--no-shconf", "--vdev=net_null0", "--vdev=net_ring0"};
    EXPECT_EQ(eal_arguments(o), expect);
    o.no_huge = false;
    expect.erase(expect.begin() + 4);
    expect[6] = "--in-memory";
    EXPECT_EQ(eal_arguments(o), expect);
}

// The real EAL, without hugepages or PCI, with two virtual ports: what the DPDK data plane
// builds on. One EAL per process, so one test does it all.
TEST(Eal, InitialisesWithVirtualDevices)
{
    EalOptions o;
    o.file_prefix = "idpath-eal-test";
    o.no_huge = true;
    o.memory_mb = 128;
    o.no_pci = true;
    o.log_level = 3;
    o.vdevs = {"net_null0", "net_ring0"};
    auto eal = Eal::init(o);
    ASSERT_TRUE(eal.ok()) << eal.error();
    EXPECT_EQ((*eal)->port_count(), 2);
    EXPECT_EQ((*eal)->port_name(0), "net_null0");
    EXPECT_EQ((*eal)->port_name(1), "net_ring0");
    EXPECT_EQ((*eal)->port_name(9), "");
    EXPECT_EQ((*eal)->lcore_count(), 1u);

    auto again = Eal::init(o);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().find("already"), std::string::npos);
}

} // namespace
} // namespace idpath::dpdk
