// JSON-lines updates (controlplane/load/update_line.hpp): every op, the errors an operator sees,
// and a file refused whole when one line is wrong.

#include "controlplane/load/update_line.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace idpath::load {
namespace {

using table::UpdateOp;

table::Update parse_ok(std::string_view line)
{
    auto u = parse_update_line(line, 1700000000);
    EXPECT_TRUE(u) << line << ": " << (u ? "" : u.error());
    return u ? *u : table::Update{};
}

std::string parse_error(std::string_view line)
{
    auto u = parse_update_line(line, 1700000000);
    EXPECT_FALSE(u) << line;
    return u ? "" : u.error();
}

TEST(UpdateLine, ParsesEveryOp)
{
    auto u = parse_ok(R"({"op":"create","handle":"88.1/a","values":[{"index":1,"type":"URL","data":"x"}]})");
    EXPECT_EQ(u.op, UpdateOp::Create);
    EXPECT_EQ(u.handle, "88.1/a");
    ASSERT_EQ(u.values.size(), 1u);
    EXPECT_EQ(u.values[0].timestamp, 1700000000u);
    EXPECT_EQ(parse_ok(R"({"op":"replace","handle":"88.1/a","values":[{"index":1,"type":"URL","data":"x"}]})").op,
              UpdateOp::Replace);
    EXPECT_EQ(parse_ok(R"({"op":"add_values","handle":"88.1/a","values":[{"index":2,"type":"URL","data":"x"}]})").op,
              UpdateOp::AddValues);
    EXPECT_EQ(parse_ok(R"({"op":"modify_values","handle":"88.1/a","values":[{"index":2,"type":"URL","data":"x"}]})").op,
              UpdateOp::ModifyValues);
    u = parse_ok(R"({"op":"remove_values","handle":"88.1/a","indexes":[2,3]})");
    EXPECT_EQ(u.op, UpdateOp::RemoveValues);
    EXPECT_EQ(u.indexes, (std::vector<std::uint32_t>{2, 3}));
    EXPECT_EQ(parse_ok(R"({"op":"delete","handle":"88.1/a"})").op, UpdateOp::Delete);
    u = parse_ok(R"({"op":"home","prefix":"88.2"})");
    EXPECT_EQ(u.op, UpdateOp::Home);
    EXPECT_EQ(u.handle, "88.2");
    EXPECT_EQ(parse_ok(R"({"op":"unhome","prefix":"88.2"})").op, UpdateOp::Unhome);
}

TEST(UpdateLine, NamesWhatIsWrong)
{
    EXPECT_NE(parse_error(R"({"op":"erase","handle":"88.1/a"})").find("op: must be one of create, replace"),
              std::string::npos);
    EXPECT_NE(parse_error(R"({"op":"create","handle":"88.1/a"})").find("values"), std::string::npos);
    EXPECT_NE(parse_error(R"({"op":"delete","handle":"88.1/a","values":[]})").find("values: unknown field"),
              std::string::npos);
    EXPECT_NE(parse_error(R"({"op":"remove_values","handle":"88.1/a","indexes":[-1]})").find("indexes[0]"),
              std::string::npos);
    EXPECT_NE(parse_error(R"({"op":"home","prefix":"88.1/a"})").find("is a handle, not a prefix"), std::string::npos);
    EXPECT_NE(parse_error(R"({"op":"delete","handle":"noslash"})").find("has no '/'"), std::string::npos);
    EXPECT_NE(parse_error(R"({"op":"delete","op":"create","handle":"88.1/a"})").find("appears twice"),
              std::string::npos);
    EXPECT_NE(parse_error(R"({"op":"add_values","handle":"88.1/a","values":[{"index":1,"type":"URL","data":"x"},)"
                          R"({"index":1,"type":"URL","data":"y"}]})")
                  .find("index 1 is also used"),
              std::string::npos);
    EXPECT_NE(parse_error("{").find("invalid JSON"), std::string::npos);
}

TEST(UpdateLine, AFileWithOneBadLineIsRefusedWhole)
{
    const auto path = std::filesystem::temp_directory_path() / ("updates-" + std::to_string(getpid()) + ".jsonl");
    {
        std::ofstream out(path);
        out << "# a comment\n\n"
            << R"({"op":"delete","handle":"88.1/a"})" << "\n"
            << R"({"op":"delete"})" << "\r\n";
    }
    auto r = read_update_file(path, 0);
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_EQ(r.error()[0].line, 4u);
    EXPECT_NE(r.error()[0].to_string().find("handle"), std::string::npos);
    {
        std::ofstream out(path);
        out << R"({"op":"delete","handle":"88.1/a"})" << "\n" << R"({"op":"home","prefix":"88.3"})" << "\n";
    }
    auto ok = read_update_file(path, 0);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->updates.size(), 2u);
    EXPECT_EQ(ok->lines, (std::vector<std::size_t>{1, 2}));
    std::filesystem::remove(path);
    EXPECT_FALSE(read_update_file(path, 0));
}

} // namespace
} // namespace idpath::load
