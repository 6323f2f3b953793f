#include "dataplane/table/table.hpp"

#include <gtest/gtest.h>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/table/handle_key.hpp"
#include "resolve_fixture.hpp"

namespace idpath::table {
namespace {

TEST(HandleKey, UppercasesAsciiOnly)
{
    EXPECT_EQ(normalize("88.100.1/abc-Ü-z"), "88.100.1/ABC-Ü-Z");
    std::array<char, 4> small;
    EXPECT_TRUE(normalize_into(as_bytes("12345"), small).empty());
    EXPECT_EQ(prefix_handle("88.a"), "0.NA/88.A");
}

TEST(Table, FindsByNormalisedKeyWithValuesInIndexOrder)
{
    TableBuilder b;
    ASSERT_TRUE(b.add("88.1/X", {test::value(5, "B", "b"), test::value(1, "A", "a")}));
    const auto t = std::move(b).build();
    const auto r = t->find("88.1/X");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->values.size(), 2u);
    EXPECT_EQ(r->values[0].index(r->encoded), 1u);
    EXPECT_EQ(r->values[1].index(r->encoded), 5u);
    EXPECT_EQ(as_string_view(r->values[1].type(r->encoded)), "B");
    ByteReader rd(r->encoded.subspan(r->values[1].offset, r->values[1].length));
    const auto v = wire::decode_value(rd);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(as_string_view(v->data), "b");
    EXPECT_TRUE(rd.at_end());
    EXPECT_FALSE(t->find("88.1/x")); // callers normalise
}

TEST(Table, RejectsDuplicatesAndDuplicateIndexes)
{
    TableBuilder b;
    EXPECT_TRUE(b.add("88.1/a", {test::value(1, "A", "a")}));
    EXPECT_FALSE(b.add("88.1/A", {test::value(1, "A", "a")}));
    EXPECT_FALSE(b.add("88.1/b", {test::value(1, "A", "a"), test::value(1, "B", "b")}));
    EXPECT_EQ(b.size(), 1u);
}

TEST(Table, TracksPublicReadAndHomedPrefixes)
{
    TableBuilder b;
    b.home("88.100.1");
    b.add("88.100.1/p", {test::value(1, "A", "a", wire::perm::kAdminRead)});
    b.add("88.100.1/q", {test::value(1, "A", "a")});
    const auto t = std::move(b).build();
    EXPECT_FALSE(t->find("88.100.1/P")->all_public_read);
    EXPECT_TRUE(t->find("88.100.1/Q")->all_public_read);
    EXPECT_TRUE(t->homes("88.100.1"));
    EXPECT_FALSE(t->homes("88.100"));
    EXPECT_EQ(t->homed_prefixes(), std::vector<std::string>{"88.100.1"});
}

} // namespace
} // namespace idpath::table
