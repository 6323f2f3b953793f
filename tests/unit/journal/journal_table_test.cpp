#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "controlplane/journal/journal_table.hpp"
#include "dataplane/table/handle_key.hpp"

namespace idpath::journal {
namespace {

wire::HandleValue url(std::uint32_t index, std::string text)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1700000000 + index;
    v.type = "URL";
    v.data.assign(text.begin(), text.end());
    return v;
}

std::shared_ptr<table::Table> base()
{
    table::TableBuilder b;
    b.home("88.100.1");
    EXPECT_TRUE(b.add("88.100.1/a", {url(1, "https://a")}));
    EXPECT_TRUE(b.add("88.100.1/gone", {url(1, "https://g")}));
    return std::move(b).build();
}

/// Applies `updates` to one table, journaling each applied one, and replays the entries onto a
/// second copy of the base: both end the same, value octets included.
TEST(JournalTable, ReplayRebuildsWhatTheUpdatesMade)
{
    auto live = base();
    auto replayed = base();
    std::vector<table::Update> updates(5);
    updates[0].op = table::UpdateOp::Create;
    updates[0].handle = "88.100.1/New";
    updates[0].values = {url(1, "https://n"), url(2, "https://n2")};
    updates[1].op = table::UpdateOp::ModifyValues;
    updates[1].handle = "88.100.1/a";
    updates[1].values = {url(1, "https://a2")};
    updates[2].op = table::UpdateOp::Delete;
    updates[2].handle = "88.100.1/gone";
    updates[3].op = table::UpdateOp::Home;
    updates[3].handle = "88.200.7";
    updates[4].op = table::UpdateOp::RemoveValues;
    updates[4].handle = "88.100.1/new";
    updates[4].indexes = {2};

    table::Retired retired;
    std::vector<Entry> entries;
    for (const auto& u : updates) {
        ASSERT_EQ(table::apply_update(*live, u, retired), table::UpdateOutcome::Applied);
        entries.push_back(entry_for(*live, u, 1700000000000));
    }
    EXPECT_EQ(entries[0].action, Action::Create);
    EXPECT_EQ(entries[0].handle, table::normalize("88.100.1/New"));
    EXPECT_EQ(entries[1].action, Action::Update);
    EXPECT_EQ(entries[2].action, Action::Delete);
    EXPECT_EQ(entries[3].action, Action::Home);
    EXPECT_EQ(entries[4].value_count, 1u);

    for (int pass = 0; pass < 2; ++pass) // twice: replay is idempotent
        for (const auto& e : entries)
            ASSERT_TRUE(replay_entry(*replayed, e, retired));
    for (const char* h : {"88.100.1/a", "88.100.1/new"}) {
        const auto want = live->find(table::normalize(h));
        const auto got = replayed->find(table::normalize(h));
        ASSERT_TRUE(want && got) << h;
        EXPECT_EQ(std::vector<std::uint8_t>(want->encoded.begin(), want->encoded.end()),
                  std::vector<std::uint8_t>(got->encoded.begin(), got->encoded.end()))
            << h;
    }
    EXPECT_FALSE(replayed->find(table::normalize("88.100.1/gone")));
    EXPECT_TRUE(replayed->homes(table::normalize("88.200.7")));
}

TEST(JournalTable, ValuesThatDoNotDecodeAreAnError)
{
    auto t = base();
    Entry e;
    e.txn_id = 9;
    e.action = Action::Update;
    e.handle = table::normalize("88.100.1/a");
    e.value_count = 1;
    e.values = {0, 0, 0, 1};
    table::Retired retired;
    auto r = replay_entry(*t, e, retired);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("txn 9"), std::string::npos) << r.error();
}

} // namespace
} // namespace idpath::journal
