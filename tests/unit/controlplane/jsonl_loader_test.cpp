#include "controlplane/load/jsonl_loader.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/table/handle_key.hpp"
#include "tests/unit/controlplane/test_support.hpp"

namespace idpath::load {
namespace {

using ::testing::HasSubstr;

constexpr std::uint32_t kNow = 1700000000;

std::string line(std::string_view handle, int index = 1,
                 std::string_view data = "https://example.org/")
{
    return R"({"handle":")" + std::string(handle) + R"(","values":[{"index":)" +
           std::to_string(index) + R"(,"type":"URL","data":")" + std::string(data) + R"("}]})";
}

class LoaderTest : public ::testing::Test {
protected:
    Result<LoadReport, std::vector<LoadError>> load(const std::vector<std::filesystem::path>& files,
                                                    std::vector<std::string> homed = {"88.100.1",
                                                                                      "88.200.7"})
    {
        return load_identifiers(files, homed, builder_, kNow);
    }

    std::vector<std::string> error_strings(const std::vector<std::filesystem::path>& files,
                                           std::vector<std::string> homed = {"88.100.1",
                                                                             "88.200.7"})
    {
        auto r = load(files, std::move(homed));
        std::vector<std::string> out;
        if (r) {
            ADD_FAILURE() << "loaded, but errors were expected";
            return out;
        }
        for (const auto& e : r.error())
            out.push_back(e.to_string());
        return out;
    }

    test::TempDir dir_;
    table::TableBuilder builder_;
};

TEST_F(LoaderTest, LoadsSkippingBlankAndCommentLines)
{
    const auto f =
        dir_.write("ids.jsonl",
                   "# a comment\n"
                   "\n" +
                       line("88.100.1/abc") +
                       "\r\n" // CRLF
                       "   \t\n"
                       "  # an indented comment\n" +
                       R"({"handle":"88.200.7/x","values":[{"index":1,"type":"A","data":"12"},)"
                       R"({"index":2,"type":"B","data_hex":"0001"}]})"
                       "\n" +
                       line("0.NA/88.100.1")); // no final newline
    auto r = load({f});
    ASSERT_TRUE(r) << r.error()[0].to_string();
    EXPECT_EQ(r->identifiers, 3u);
    EXPECT_EQ(r->values, 4u);
    EXPECT_EQ(r->lines, 7u);
    // 26 fixed octets per value plus type and data.
    EXPECT_EQ(r->value_bytes, (26u + 3 + 20) + (26u + 1 + 2) + (26u + 1 + 2) + (26u + 3 + 20));
    EXPECT_GE(r->seconds, 0.0);
    EXPECT_TRUE(builder_.contains("88.100.1/abc"));
    EXPECT_TRUE(builder_.contains("88.200.7/x"));
    EXPECT_TRUE(builder_.contains("0.NA/88.100.1"));

    auto table = std::move(builder_).build();
    EXPECT_EQ(table->size(), 3u);
    EXPECT_TRUE(table->homes("88.100.1"));
    EXPECT_TRUE(table->homes("88.200.7"));
    const auto rec = table->find(table::normalize("88.200.7/x"));
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->values.size(), 2u);
}

TEST_F(LoaderTest, ByteOrderMarkIsSkipped)
{
    const auto f = dir_.write("bom.jsonl", "\xEF\xBB\xBF" + line("88.100.1/a") + "\n");
    auto r = load({f});
    ASSERT_TRUE(r) << r.error()[0].to_string();
    EXPECT_EQ(r->identifiers, 1u);
}

TEST_F(LoaderTest, NoFilesIsAnEmptyLoad)
{
    auto r = load({});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->identifiers, 0u);
    EXPECT_EQ(r->lines, 0u);
}

TEST_F(LoaderTest, EveryBadLineIsReportedWithFileAndLine)
{
    const auto a = dir_.write(
        "a.jsonl",
        line("88.100.1/ok") + "\n" +      // 1
            "{not json\n" +               // 2
            line("88.100.1/ok2") + "\n" + // 3
            R"({"handle":"88.100.1/t","values":[{"index":1,"type":"URL","data":"x","ttl":-1}]})" +
            "\n" // 4
    );
    const auto b = dir_.write("b.jsonl", "\n" + line("88.999/x") + "\n" + R"([1])" + "\n");
    const auto errors = error_strings({a, b});
    ASSERT_EQ(errors.size(), 4u);
    EXPECT_THAT(errors[0], HasSubstr(a.string() + ":2: invalid JSON at byte"));
    EXPECT_EQ(errors[1],
              a.string() + ":4: values[0].ttl: must be an integer 0..4294967295, got -1");
    EXPECT_EQ(errors[2],
              b.string() +
                  ":2: handle \"88.999/x\": prefix \"88.999\" is not in data.homed_prefixes");
    EXPECT_EQ(errors[3], b.string() + ":3: must be an object, got an array");
}

TEST_F(LoaderTest, DuplicateHandlesIgnoringCaseAcrossFiles)
{
    const auto a =
        dir_.write("a.jsonl", line("88.100.1/abc") + "\n" + line("88.100.1/ABC", 2) + "\n");
    const auto b =
        dir_.write("b.jsonl", line("88.100.1/Abc", 3) + "\n" + line("88.100.1/other") + "\n");
    const auto errors = error_strings({a, b});
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(
        errors[0],
        a.string() +
            ":2: duplicate handle \"88.100.1/ABC\" (handles are compared ignoring ASCII case)");
    EXPECT_EQ(
        errors[1],
        b.string() +
            ":1: duplicate handle \"88.100.1/Abc\" (handles are compared ignoring ASCII case)");
}

TEST_F(LoaderTest, PrefixHoming)
{
    const auto f = dir_.write("p.jsonl", line("88.100.A/x") + "\n" + line("0.na/88.5") + "\n" +
                                             line("0.NA/99") + "\n" + line("0.NA/0.NA") + "\n");
    auto r = load({f}, {"88.100.a"});
    ASSERT_TRUE(r) << r.error()[0].to_string();
    EXPECT_EQ(r->identifiers, 4u);

    table::TableBuilder other;
    auto none = load_identifiers({f}, {}, other, kNow);
    ASSERT_FALSE(none);
    ASSERT_EQ(none.error().size(), 1u);
    EXPECT_EQ(none.error()[0].line, 1u);
    EXPECT_THAT(none.error()[0].reason,
                HasSubstr("prefix \"88.100.A\" is not in data.homed_prefixes"));

    // A prefix that merely starts like a homed one is not homed.
    const auto g = dir_.write("g.jsonl", line("88.100.10/x") + "\n" + line("88.100/x") + "\n");
    EXPECT_EQ(error_strings({g}, {"88.100.1"}).size(), 2u);
}

TEST_F(LoaderTest, ErrorsAreCappedAt100)
{
    std::string text;
    for (int i = 0; i < 150; ++i)
        text += "oops\n";
    const auto f = dir_.write("bad.jsonl", text);
    auto r = load({f});
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().size(), kMaxReportedErrors + 1);
    EXPECT_EQ(r.error()[99].line, 100u);
    EXPECT_EQ(r.error()[100].to_string(), "... 50 more errors");
}

TEST_F(LoaderTest, UnreadableFiles)
{
    const auto errors = error_strings({dir_ / "missing.jsonl", dir_.path()});
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0],
              (dir_ / "missing.jsonl").string() + ": cannot open: No such file or directory");
    EXPECT_EQ(errors[1], dir_.path().string() + ": is a directory, not a JSON-lines file");
}

TEST_F(LoaderTest, LineNumbersSurviveBatching)
{
    // More lines than one parallel batch holds; the error sits in the second batch.
    std::string text;
    for (int i = 1; i <= 40000; ++i)
        text +=
            (i == 33333 ? std::string("{\"handle\":1}") : line("88.100.1/n" + std::to_string(i))) +
            "\n";
    const auto f = dir_.write("big.jsonl", text);
    auto r = load({f});
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_EQ(r.error()[0].line, 33333u);
    EXPECT_EQ(builder_.size(), 39999u); // the caller discards the builder; shown here for the count

    table::TableBuilder clean;
    const auto g = dir_.write(
        "big2.jsonl", text.replace(text.find("{\"handle\":1}"), 12, line("88.100.1/n33333")));
    auto ok = load_identifiers({g}, {"88.100.1"}, clean, kNow);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->identifiers, 40000u);
    EXPECT_EQ(ok->lines, 40000u);
}

TEST(LoadErrorTest, ToString)
{
    EXPECT_EQ((LoadError{"a.jsonl", 3, "bad"}.to_string()), "a.jsonl:3: bad");
    EXPECT_EQ((LoadError{"a.jsonl", 0, "bad"}.to_string()), "a.jsonl: bad");
    EXPECT_EQ((LoadError{{}, 0, "... 2 more errors"}.to_string()), "... 2 more errors");
}

} // namespace
} // namespace idpath::load
