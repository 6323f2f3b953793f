// The pcapng blocks (controlplane/mirror/probe/pcapng): each block's layout octet by octet
// (type, both lengths, 32-bit alignment, options), and a file of them that tshark reads back
// with the right link types, nanosecond times, lengths and directions.

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "controlplane/mirror/probe/pcapng.hpp"
#include "tests/unit/mirror/probe/probe_test_util.hpp"

namespace idpath::mirror::pcapng {
namespace {

std::uint32_t u32(const std::string& b, std::size_t at)
{
    std::uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}
std::uint16_t u16(const std::string& b, std::size_t at)
{
    std::uint16_t v;
    std::memcpy(&v, b.data() + at, 2);
    return v;
}

/// Checks the framing of every block in `b` and returns their types.
std::vector<std::uint32_t> blocks(const std::string& b)
{
    std::vector<std::uint32_t> types;
    std::size_t at = 0;
    while (at < b.size()) {
        EXPECT_LE(at + 12, b.size());
        const std::uint32_t len = u32(b, at + 4);
        EXPECT_EQ(len % 4, 0u);
        EXPECT_LE(at + len, b.size());
        EXPECT_EQ(u32(b, at + len - 4), len) << "trailing length of block at " << at;
        types.push_back(u32(b, at));
        at += len;
    }
    return types;
}

TEST(Pcapng, SectionHeaderLayout)
{
    std::string b;
    append_section_header(b, "idpath");
    ASSERT_EQ(blocks(b), std::vector<std::uint32_t>{kSectionHeader});
    EXPECT_EQ(u32(b, 8), kByteOrderMagic);
    EXPECT_EQ(u16(b, 12), 1u);
    EXPECT_EQ(u16(b, 14), 0u);
    EXPECT_EQ(b.substr(16, 8), std::string(8, '\xff'));
    EXPECT_EQ(u16(b, 24), 4u); // shb_userappl
    EXPECT_EQ(u16(b, 26), 6u);
    EXPECT_EQ(b.substr(28, 6), "idpath");
    EXPECT_EQ(u16(b, 36), 0u); // opt_endofopt after padding to 4
    EXPECT_EQ(b.size(), 44u);
}

TEST(Pcapng, InterfaceHasNanosecondResolution)
{
    std::string b;
    append_interface(b, kLinkRaw, 2032, "");
    ASSERT_EQ(blocks(b), std::vector<std::uint32_t>{kInterfaceDescription});
    EXPECT_EQ(u16(b, 8), kLinkRaw);
    EXPECT_EQ(u32(b, 12), 2032u);
    EXPECT_EQ(u16(b, 16), 9u); // if_tsresol
    EXPECT_EQ(u16(b, 18), 1u);
    EXPECT_EQ(static_cast<unsigned char>(b[20]), 9u);
    EXPECT_EQ(b.size(), 32u);
}

TEST(Pcapng, EnhancedPacketPadsDataAndCarriesFlags)
{
    std::string b;
    const std::uint8_t data[5] = {1, 2, 3, 4, 5};
    append_packet(b, 1, 0x123456789abcdef0ull, {data, 5}, 9, Direction::Outbound);
    ASSERT_EQ(blocks(b), std::vector<std::uint32_t>{kEnhancedPacket});
    EXPECT_EQ(u32(b, 8), 1u);
    EXPECT_EQ(u32(b, 12), 0x12345678u);
    EXPECT_EQ(u32(b, 16), 0x9abcdef0u);
    EXPECT_EQ(u32(b, 20), 5u);
    EXPECT_EQ(u32(b, 24), 9u);
    EXPECT_EQ(std::memcmp(b.data() + 28, data, 5), 0);
    EXPECT_EQ(b.substr(33, 3), std::string(3, '\0'));
    EXPECT_EQ(u16(b, 36), 2u); // epb_flags
    EXPECT_EQ(u16(b, 38), 4u);
    EXPECT_EQ(u32(b, 40), 2u);
    EXPECT_EQ(u32(b, 44), 0u); // opt_endofopt
    EXPECT_EQ(b.size(), 52u);
    // Never an original length below the captured one.
    std::string c;
    append_packet(c, 0, 0, {data, 5}, 2, Direction::Unknown);
    EXPECT_EQ(u32(c, 24), 5u);
    EXPECT_EQ(c.size(), 32u + 8u); // no options at all
}

TEST(Pcapng, TsharkReadsItBack)
{
    if (!mirror::test::have_tshark())
        GTEST_SKIP() << "tshark not installed";
    // An IPv4/UDP packet (raw link) and an Ethernet frame carrying IPv6/UDP.
    const std::uint8_t ip4[] = {0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
                                0x30, 0x39, 0x0a, 0x51, 0, 12, 0, 0, 'a', 'b', 'c', 'd'};
    std::vector<std::uint8_t> eth = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd,
                                     0x60, 0, 0, 0, 0, 10, 17, 64};
    for (int i = 0; i < 32; ++i)
        eth.push_back(i < 15 || (i >= 16 && i < 31) ? 0x20 : (i == 15 ? 1 : 2)); // 2001:...:1 -> :2
    for (int x : {0x0a, 0x51, 0x30, 0x39, 0, 10, 0, 0, int{'h'}, int{'i'}})
        eth.push_back(static_cast<std::uint8_t>(x));
    std::string b;
    append_section_header(b, "idpath test");
    append_interface(b, kLinkEthernet, 2032, "dataplane");
    append_interface(b, kLinkRaw, 2032, "sockets");
    append_packet(b, 1, 1'700'000'000'123'456'789ull, {ip4, sizeof ip4}, sizeof ip4, Direction::Inbound);
    append_packet(b, 0, 1'700'000'001'000'000'001ull, {eth.data(), eth.size()}, 100, Direction::Outbound);
    mirror::test::TempDir dir;
    const auto path = dir.path() / "t.pcapng";
    std::ofstream(path, std::ios::binary) << b;
    const auto [out, status] = mirror::test::run_tshark(
        "-r " + path.string() +
        " -T fields -E separator=, -e frame.time_epoch -e frame.len -e frame.cap_len"
        " -e ip.src -e ipv6.dst -e udp.srcport -e udp.dstport -e frame.interface_id -e pkt_comment"
        " -e frame.packet_flags_direction");
    ASSERT_EQ(status, 0) << out;
    std::istringstream lines(out);
    std::string l1, l2;
    std::getline(lines, l1);
    std::getline(lines, l2);
    EXPECT_EQ(l1, "1700000000.123456789,32,32,192.0.2.1,,12345,2641,1,,0x00000001") << out;
    EXPECT_EQ(l2, "1700000001.000000001,100,64,,2020:2020:2020:2020:2020:2020:2020:2002,2641,12345,0,,0x00000002") << out;
}

} // namespace
} // namespace idpath::mirror::pcapng
