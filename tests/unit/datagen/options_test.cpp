#include "perf/datagen/options.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>
#include <vector>

namespace idpath::datagen {
namespace {

Result<Options, std::string> parse(std::initializer_list<std::string_view> args)
{
    const std::vector<std::string_view> v(args);
    return parse_options(v);
}

std::string error_of(std::initializer_list<std::string_view> args)
{
    const auto r = parse(args);
    return r.ok() ? std::string("(ok)") : r.error();
}

TEST(DatagenOptions, Defaults)
{
    const auto r = parse({"--count", "10"});
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->count, 10u);
    EXPECT_EQ(r->generator.prefixes, std::vector<std::string>{"88.100.1"});
    EXPECT_EQ(r->generator.seed, 1u);
    EXPECT_EQ(r->generator.zipf_s, kDefaultZipfS);
    EXPECT_EQ(r->out, "");
    EXPECT_EQ(r->handles_out, "");
}

TEST(DatagenOptions, Everything)
{
    const auto r = parse({"--count=1000", "--prefix", "88.100.1", "--prefix=88.200.7", "--seed", "42",
                          "--zipf-s", "0.5", "--out", "ids.jsonl", "--handles-out", "h.txt"});
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->count, 1000u);
    EXPECT_EQ(r->generator.prefixes, (std::vector<std::string>{"88.100.1", "88.200.7"}));
    EXPECT_EQ(r->generator.seed, 42u);
    EXPECT_EQ(r->generator.zipf_s, 0.5);
    EXPECT_EQ(r->out, "ids.jsonl");
    EXPECT_EQ(r->handles_out, "h.txt");
}

TEST(DatagenOptions, BadArgumentsAreRejected)
{
    EXPECT_EQ(error_of({}), "--count is required");
    EXPECT_EQ(error_of({"--seed", "3"}), "--count is required");
    EXPECT_EQ(error_of({"--count"}), "--count needs a value");
    EXPECT_NE(error_of({"--count", "0"}).find("must be an integer 1.."), std::string::npos);
    EXPECT_NE(error_of({"--count", "-5"}).find("must be an integer"), std::string::npos);
    EXPECT_NE(error_of({"--count", "12x"}).find("must be an integer"), std::string::npos);
    EXPECT_NE(error_of({"--count", "99999999999"}).find("must be an integer"), std::string::npos);
    EXPECT_EQ(error_of({"--count", "1", "--bogus"}), "unknown option --bogus");
    EXPECT_EQ(error_of({"--count", "1", "stray"}), "unknown option stray");
    EXPECT_NE(error_of({"--count", "1", "--zipf-s", "-1"}).find("0..10"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--zipf-s", "nan"}).find("0..10"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--zipf-s", "1.5q"}).find("0..10"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--seed", "x"}).find("--seed"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--prefix", "88.100.1/x"}).find("must not contain '/'"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--prefix", ""}).find("octets"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--prefix", "88 1"}).find("spaces"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--prefix", "0.na"}).find("0.NA"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--prefix", "88.A", "--prefix", "88.a"}).find("given twice"),
              std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--out", ""}).find("must name a file"), std::string::npos);
    EXPECT_NE(error_of({"--count", "1", "--out", "a", "--handles-out", "a"}).find("same file"), std::string::npos);
}

TEST(DatagenOptions, Help)
{
    const auto r = parse({"--help"});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->help);
    EXPECT_NE(usage().find("--count N"), std::string_view::npos);
}

} // namespace
} // namespace idpath::datagen
