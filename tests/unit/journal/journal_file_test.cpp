#include <gtest/gtest.h>


#include <filesystem>
#include <fstream>
#include <vector>

#include "controlplane/journal/journal.hpp"
#include "tests/unit/fresh_dir.hpp"

namespace idpath::journal {
namespace {

namespace fs = std::filesystem;

class JournalFile : public test_support::FreshDirTest {
protected:
    fs::path path() const { return dir_ / "changes.journal"; }

    static std::vector<Entry> batch(std::initializer_list<const char*> handles)
    {
        std::vector<Entry> out;
        for (const char* h : handles) {
            Entry e;
            e.date_ms = 1700000000000;
            e.action = Action::Create;
            e.handle = h;
            e.value_count = 1;
            e.values = {1, 2, 3};
            out.push_back(e);
        }
        return out;
    }

};

std::vector<std::uint64_t> ids_after(const Journal& j, std::uint64_t txn)
{
    std::vector<std::uint64_t> ids;
    auto r = j.read_after(txn, [&](const Entry& e) { ids.push_back(e.txn_id); });
    EXPECT_TRUE(r) << r.error();
    return ids;
}

TEST_F(JournalFile, CreatesAndAppends)
{
    auto j = Journal::open(path());
    ASSERT_TRUE(j) << j.error();
    EXPECT_EQ((*j)->last_txn(), 0u);
    auto b = batch({"a/1", "a/2"});
    ASSERT_TRUE((*j)->append(b));
    EXPECT_EQ(b[0].txn_id, 1u);
    EXPECT_EQ(b[1].txn_id, 2u);
    EXPECT_EQ((*j)->last_txn(), 2u);
    EXPECT_EQ(ids_after(**j, 0), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(ids_after(**j, 1), (std::vector<std::uint64_t>{2}));
    EXPECT_TRUE(ids_after(**j, 2).empty());
}

TEST_F(JournalFile, IdsContinueAfterReopen)
{
    {
        auto j = Journal::open(path());
        ASSERT_TRUE(j) << j.error();
        auto b = batch({"a/1", "a/2", "a/3"});
        ASSERT_TRUE((*j)->append(b));
    }
    auto j = Journal::open(path());
    ASSERT_TRUE(j) << j.error();
    EXPECT_EQ((*j)->last_txn(), 3u);
    EXPECT_EQ((*j)->entries(), 3u);
    EXPECT_EQ((*j)->truncated_bytes(), 0u);
    auto b = batch({"a/4"});
    ASSERT_TRUE((*j)->append(b));
    EXPECT_EQ(b[0].txn_id, 4u);
    EXPECT_EQ(ids_after(**j, 2), (std::vector<std::uint64_t>{3, 4}));
}

TEST_F(JournalFile, TornTailIsTruncatedAndReported)
{
    std::uintmax_t whole = 0;
    {
        auto j = Journal::open(path());
        ASSERT_TRUE(j) << j.error();
        auto b = batch({"a/1", "a/2"});
        ASSERT_TRUE((*j)->append(b));
        whole = fs::file_size(path());
        auto c = batch({"a/3"});
        ASSERT_TRUE((*j)->append(c));
    }
    fs::resize_file(path(), fs::file_size(path()) - 2); // the crash cut the last append
    const std::uintmax_t torn = fs::file_size(path()) - whole;
    auto j = Journal::open(path());
    ASSERT_TRUE(j) << j.error();
    EXPECT_EQ((*j)->last_txn(), 2u);
    EXPECT_EQ((*j)->truncated_bytes(), torn);
    EXPECT_EQ(fs::file_size(path()), whole);
    auto c = batch({"a/3"});
    ASSERT_TRUE((*j)->append(c));
    EXPECT_EQ(c[0].txn_id, 3u);
}

TEST_F(JournalFile, DamageInTheMiddleRefusesToOpen)
{
    {
        auto j = Journal::open(path());
        ASSERT_TRUE(j) << j.error();
        auto b = batch({"a/1", "a/2", "a/3"});
        ASSERT_TRUE((*j)->append(b));
    }
    {
        std::fstream f(path(), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(kFileHeaderBytes + kEntryHeaderBytes + 20));
        f.put('\x7f');
    }
    auto j = Journal::open(path());
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().find("offset " + std::to_string(kFileHeaderBytes)), std::string::npos) << j.error();
}

} // namespace
} // namespace idpath::journal
