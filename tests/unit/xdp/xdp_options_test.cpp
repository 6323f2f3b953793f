#include "drivers/xdp/xdp_options.hpp"

#include <gtest/gtest.h>

namespace idpath::xdp {
namespace {

TEST(XdpOptions, ParsesModes)
{
    EXPECT_EQ(parse_attach_mode("native"), AttachMode::native);
    EXPECT_EQ(parse_attach_mode("generic"), AttachMode::generic);
    EXPECT_EQ(parse_attach_mode("auto"), AttachMode::automatic);
    EXPECT_FALSE(parse_attach_mode("skb").has_value());
    EXPECT_EQ(to_string(AttachMode::automatic), "auto");
}

TEST(XdpOptions, ParsesPortLists)
{
    auto one = parse_ports("2641");
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one.value(), std::vector<std::uint16_t>{2641});
    auto two = parse_ports("2641,8000");
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(two.value(), (std::vector<std::uint16_t>{2641, 8000}));
    for (const char* bad : {"", "0", "65536", "26x", "2641,", ",2641", "2641,2641", "-1"})
        EXPECT_FALSE(parse_ports(bad).ok()) << bad;
    EXPECT_EQ(parse_ports("2641,abc").error(), "bad port 'abc'");
}

TEST(XdpOptions, ValidatesPortSet)
{
    XdpOptions options;
    EXPECT_FALSE(validate(options).has_value()) << "default options must attach";
    EXPECT_EQ(options.ports, std::vector<std::uint16_t>{2641});
    options.ports.clear();
    EXPECT_EQ(validate(options), "no service port");
    options.ports = {53, 0};
    EXPECT_TRUE(validate(options).has_value());
    options.ports.assign(max_service_ports + 1, 0);
    for (std::size_t i = 0; i < options.ports.size(); ++i)
        options.ports[i] = static_cast<std::uint16_t>(1000 + i);
    EXPECT_TRUE(validate(options).has_value());
    options.ports.pop_back();
    EXPECT_FALSE(validate(options).has_value());
}

} // namespace
} // namespace idpath::xdp
