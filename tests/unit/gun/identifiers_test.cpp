#include "perf/gun/identifiers.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "result_text.hpp"

namespace idpath::gun {
namespace {

constexpr std::size_t kMax = 100;

TEST(Identifiers, HandleLinesSkipBlanksAndCommentsAndTrim)
{
    std::istringstream in("# a comment\n88.100.1/abc\n\n  88.100.1/def \r\n\t# indented comment\n88.200.7/x\n");
    IdentifierSet ids;
    const auto r = read_handle_lines(in, "h.txt", kMax, ids);
    ASSERT_TRUE(r.ok()) << error_text(r);
    EXPECT_EQ(*r, 3u);
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids.at(0), "88.100.1/abc");
    EXPECT_EQ(ids.at(1), "88.100.1/def");
    EXPECT_EQ(ids.at(2), "88.200.7/x");
    EXPECT_EQ(ids.prefixes(), (std::vector<std::string>{"88.100.1", "88.200.7"}));
    EXPECT_EQ(ids.longest(), 12u);
}

TEST(Identifiers, TooLongHandleNamesFileAndLine)
{
    std::istringstream in("a/b\n" + std::string(kMax + 1, 'x') + "\n");
    IdentifierSet ids;
    const auto r = read_handle_lines(in, "h.txt", kMax, ids);
    EXPECT_EQ(error_text(r), "h.txt:2: handle too long for a single-datagram request");
}

TEST(Identifiers, JsonLinesTakeTheHandleField)
{
    std::istringstream in(
        "# generated\n"
        "{\"handle\":\"88.100.1/abc\",\"values\":[{\"index\":1,\"type\":\"URL\",\"data\":\"x\"}]}\n"
        "{\"values\":[],\"handle\":\"0.NA/88.100.1\"}\n");
    IdentifierSet ids;
    const auto r = read_jsonl_lines(in, "ids.jsonl", kMax, ids);
    ASSERT_TRUE(r.ok()) << error_text(r);
    EXPECT_EQ(*r, 2u);
    EXPECT_EQ(ids.at(1), "0.NA/88.100.1");
}

TEST(Identifiers, JsonLinesErrors)
{
    const auto error = [](const std::string& text) {
        std::istringstream in(text);
        IdentifierSet ids;
        const auto r = read_jsonl_lines(in, "f", kMax, ids);
        return error_text(r);
    };
    EXPECT_EQ(error("{\"handle\":\"a/b\"}\n{broken\n"), "f:2: not a JSON object");
    EXPECT_EQ(error("[1,2]\n"), "f:1: not a JSON object");
    EXPECT_EQ(error("{\"name\":\"a/b\"}\n"), "f:1: no string \"handle\" field");
    EXPECT_EQ(error("{\"handle\":5}\n"), "f:1: no string \"handle\" field");
    EXPECT_EQ(error("{\"handle\":\"\"}\n"), "f:1: empty handle");
}

TEST(Identifiers, MissingFileIsAnError)
{
    IdentifierSet ids;
    const auto r = load_identifier_file("/nonexistent/idpath-gun-test", IdentifierFormat::Lines, kMax, ids);
    EXPECT_EQ(error_text(r), "/nonexistent/idpath-gun-test: No such file or directory");
}

TEST(Identifiers, HandleWithoutSlashIsItsOwnPrefix)
{
    IdentifierSet ids;
    ids.add("88.100.1");
    ids.add("88.100.1/x");
    EXPECT_EQ(ids.prefixes(), std::vector<std::string>{"88.100.1"});
    EXPECT_EQ(ids.longest_prefix(), 8u);
}

TEST(Identifiers, PrefixHandlesGiveNoPrefixForMisses)
{
    IdentifierSet ids;
    ids.add("0.NA/88.100.1");
    ids.add("0.na/88.200.7");
    EXPECT_TRUE(ids.prefixes().empty());
    ids.add("88.100.1/x");
    EXPECT_EQ(ids.prefixes(), std::vector<std::string>{"88.100.1"});
}

} // namespace
} // namespace idpath::gun
