// Handle System changes on a serving table (dataplane/table/update.hpp): each op's meaning and
// refusals, and that a refused change leaves the record as it was.

#include "dataplane/table/update.hpp"

#include <gtest/gtest.h>

#include "dataplane/base/byte_reader.hpp"
#include "tests/unit/table/url_value.hpp"

namespace idpath::table {
namespace {

using test::url_value;

/// index -> data of the handle's values, "" when the handle is missing.
std::string contents(const Table& t, std::string_view key)
{
    const auto rec = t.find(key);
    if (!rec)
        return "";
    std::string s;
    for (const auto& e : rec->values) {
        ByteReader r(rec->encoded.subspan(e.offset, e.length));
        const auto v = wire::decode_value(r);
        s += std::to_string(v->index) + "=" + std::string(as_string_view(v->data)) + ";";
    }
    return s;
}

struct UpdateTest : ::testing::Test {
    std::shared_ptr<Table> t;
    Retired retired;

    void SetUp() override
    {
        TableBuilder b;
        b.home("88.1");
        ASSERT_TRUE(b.add("88.1/a", {url_value(1, "one"), url_value(2, "two")}));
        t = std::move(b).build();
    }
    UpdateOutcome apply(UpdateOp op, std::string handle, std::vector<wire::HandleValue> values = {},
                        std::vector<std::uint32_t> indexes = {})
    {
        return apply_update(*t, Update{op, std::move(handle), std::move(values), std::move(indexes)}, retired);
    }
};

TEST_F(UpdateTest, CreateRefusesAnExistingHandleAndAPrefixNotHomed)
{
    EXPECT_EQ(apply(UpdateOp::Create, "88.1/A", {url_value(1, "x")}), UpdateOutcome::HandleExists);
    EXPECT_EQ(apply(UpdateOp::Create, "88.2/b", {url_value(1, "x")}), UpdateOutcome::NotHomed);
    EXPECT_EQ(apply(UpdateOp::Create, "0.NA/88.2", {url_value(1, "x")}), UpdateOutcome::Applied);
    EXPECT_EQ(apply(UpdateOp::Create, "88.1/b", {url_value(1, "x")}), UpdateOutcome::Applied);
    EXPECT_EQ(contents(*t, "88.1/B"), "1=x;");
    EXPECT_EQ(contents(*t, "88.1/A"), "1=one;2=two;");
}

TEST_F(UpdateTest, ReplaceCreatesOrReplacesWhole)
{
    EXPECT_EQ(apply(UpdateOp::Replace, "88.1/a", {url_value(7, "seven")}), UpdateOutcome::Applied);
    EXPECT_EQ(contents(*t, "88.1/A"), "7=seven;");
    EXPECT_EQ(apply(UpdateOp::Replace, "88.1/new", {url_value(1, "n")}), UpdateOutcome::Applied);
    EXPECT_EQ(t->size(), 2u);
}

TEST_F(UpdateTest, DeleteRemovesOrSaysNotFound)
{
    EXPECT_EQ(apply(UpdateOp::Delete, "88.1/a"), UpdateOutcome::Applied);
    EXPECT_EQ(apply(UpdateOp::Delete, "88.1/a"), UpdateOutcome::HandleNotFound);
    EXPECT_EQ(t->size(), 0u);
}

TEST_F(UpdateTest, AddValuesRefusesATakenIndexAndChangesNothing)
{
    EXPECT_EQ(apply(UpdateOp::AddValues, "88.1/a", {url_value(3, "three"), url_value(2, "dup")}), UpdateOutcome::ValueExists);
    EXPECT_EQ(contents(*t, "88.1/A"), "1=one;2=two;");
    EXPECT_EQ(apply(UpdateOp::AddValues, "88.1/a", {url_value(0, "zero")}), UpdateOutcome::Applied);
    EXPECT_EQ(contents(*t, "88.1/A"), "0=zero;1=one;2=two;");
    EXPECT_EQ(apply(UpdateOp::AddValues, "88.1/zz", {url_value(1, "x")}), UpdateOutcome::HandleNotFound);
    EXPECT_EQ(apply(UpdateOp::AddValues, "88.1/a", {url_value(5, "x"), url_value(5, "y")}), UpdateOutcome::Invalid);
}

TEST_F(UpdateTest, ModifyValuesRefusesAMissingIndex)
{
    EXPECT_EQ(apply(UpdateOp::ModifyValues, "88.1/a", {url_value(2, "TWO"), url_value(9, "x")}), UpdateOutcome::ValueNotFound);
    EXPECT_EQ(contents(*t, "88.1/A"), "1=one;2=two;");
    EXPECT_EQ(apply(UpdateOp::ModifyValues, "88.1/a", {url_value(2, "TWO")}), UpdateOutcome::Applied);
    EXPECT_EQ(contents(*t, "88.1/A"), "1=one;2=TWO;");
}

TEST_F(UpdateTest, RemoveValuesRefusesAMissingIndexAndAnEmptyRecord)
{
    EXPECT_EQ(apply(UpdateOp::RemoveValues, "88.1/a", {}, {2, 3}), UpdateOutcome::ValueNotFound);
    EXPECT_EQ(apply(UpdateOp::RemoveValues, "88.1/a", {}, {1, 2}), UpdateOutcome::Invalid);
    EXPECT_EQ(contents(*t, "88.1/A"), "1=one;2=two;");
    EXPECT_EQ(apply(UpdateOp::RemoveValues, "88.1/a", {}, {1}), UpdateOutcome::Applied);
    EXPECT_EQ(contents(*t, "88.1/A"), "2=two;");
}

TEST_F(UpdateTest, HomeAndUnhomeGateCreates)
{
    EXPECT_EQ(apply(UpdateOp::Home, "88.2"), UpdateOutcome::Applied);
    EXPECT_EQ(apply(UpdateOp::Create, "88.2/b", {url_value(1, "x")}), UpdateOutcome::Applied);
    EXPECT_EQ(apply(UpdateOp::Unhome, "88.2"), UpdateOutcome::Applied);
    EXPECT_FALSE(t->homes("88.2"));
    EXPECT_EQ(apply(UpdateOp::Create, "88.2/c", {url_value(1, "x")}), UpdateOutcome::NotHomed);
    EXPECT_EQ(to_string(UpdateOutcome::NotHomed), "not_homed");
    EXPECT_EQ(to_string(UpdateOp::RemoveValues), "remove_values");
}

} // namespace
} // namespace idpath::table
