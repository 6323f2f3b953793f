// Journal::read_after() through the index of offsets: for every starting txn it returns what a
// scan of the whole file returns from there, stops when told, survives appends, a reopen and a
// failed append, reads entries larger than its read chunk, and reads a small part of a large
// journal for a small request (counted in octets, not timed).

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "controlplane/journal/journal.hpp"
#include "tests/unit/fresh_dir.hpp"

namespace idpath::journal {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t K = kIndexEveryEntries;

class JournalIndex : public test_support::FreshDirTest {
protected:
    fs::path path() const { return dir_ / "changes.journal"; }

    std::unique_ptr<Journal> open() const
    {
        auto j = Journal::open(path());
        EXPECT_TRUE(j) << j.error();
        return j ? std::move(*j) : nullptr;
    }

};

/// Entry `i` of a test journal: its size varies with i, and every few a delete (no values).
Entry entry(std::uint64_t i, std::size_t value_bytes)
{
    Entry e;
    e.date_ms = 1700000000000 + static_cast<std::int64_t>(i);
    e.handle = "88.100.1/item-" + std::to_string(i);
    if (i % 7 == 3) {
        e.action = Action::Delete;
        return e;
    }
    e.action = i % 2 ? Action::Update : Action::Create;
    e.value_count = 1;
    e.values.assign(value_bytes, static_cast<std::uint8_t>(i));
    return e;
}

/// Appends `n` small entries in batches of uneven sizes, so batch edges fall anywhere.
void append_small(Journal& j, std::uint64_t n)
{
    std::uint64_t i = j.last_txn();
    const std::uint64_t end = i + n;
    for (std::size_t size = 1; i < end; size = size * 3 % 1000 + 1) {
        std::vector<Entry> batch;
        for (; batch.size() < size && i < end; ++i)
            batch.push_back(entry(i, i % 50));
        ASSERT_TRUE(j.append(batch));
    }
}

/// Every entry of the file, by the whole-file scan read_after() used to be.
std::vector<Entry> reference(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> file{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<Entry> all;
    auto r = scan_journal(file, [&](const Entry& e) { all.push_back(e); });
    EXPECT_TRUE(r) << r.error();
    return all;
}

bool same(const Entry& a, const Entry& b)
{
    return a.txn_id == b.txn_id && a.date_ms == b.date_ms && a.action == b.action && a.handle == b.handle &&
           a.value_count == b.value_count && a.values == b.values;
}

/// read_after(t) for every t from 0 to past the end equals the reference from t on.
void expect_sweep(const Journal& j, const std::vector<Entry>& ref)
{
    ASSERT_EQ(j.entries(), ref.size());
    for (std::uint64_t t = 0; t <= ref.size() + 1; ++t) {
        std::size_t next = t; // ids run from 1: the entry after t is ref[t]
        bool ok = true;
        auto r = j.read_after(t, [&](const Entry& e) {
            ok = ok && next < ref.size() && same(e, ref[next]);
            ++next;
        });
        ASSERT_TRUE(r) << r.error();
        ASSERT_TRUE(ok) << "read_after(" << t << ") differs from the full scan";
        ASSERT_EQ(next, std::max<std::size_t>(t, ref.size())) << "read_after(" << t << ") stopped short";
    }
}

TEST_F(JournalIndex, EveryStartEqualsTheFullScan)
{
    for (const std::uint64_t n : {std::uint64_t{0}, std::uint64_t{1}, K - 1, K, K + 1, 5 * K + 3}) {
        SCOPED_TRACE("entries " + std::to_string(n));
        fs::remove(path());
        {
            auto j = open();
            ASSERT_TRUE(j);
            append_small(*j, n);
            expect_sweep(*j, reference(path()));
            append_small(*j, K + 2); // the index extended by appends
            expect_sweep(*j, reference(path()));
        }
        auto j = open(); // the index rebuilt by open()'s scan
        ASSERT_TRUE(j);
        EXPECT_EQ(j->entries(), n + K + 2);
        expect_sweep(*j, reference(path()));
    }
}

TEST_F(JournalIndex, StopsWhenTold)
{
    auto j = open();
    ASSERT_TRUE(j);
    append_small(*j, 3 * K + 10);
    const std::vector<Entry> ref = reference(path());
    for (const std::uint64_t t : {std::uint64_t{0}, std::uint64_t{1}, K - 1, K, 2 * K + 7, 3 * K + 8})
        for (const std::size_t take : {std::size_t{1}, std::size_t{2}, std::size_t{K + 1}}) {
            std::vector<Entry> got;
            auto r = j->read_after(t, [&](const Entry& e) {
                got.push_back(e);
                return got.size() < take;
            });
            ASSERT_TRUE(r) << r.error();
            const std::size_t expect = std::min<std::size_t>(take, ref.size() - t);
            ASSERT_EQ(got.size(), expect) << "after " << t << " taking " << take;
            for (std::size_t i = 0; i < got.size(); ++i)
                EXPECT_TRUE(same(got[i], ref[t + i])) << "after " << t << " entry " << i;
        }
}

/// An append that fails half way (the file size limit stands in for a full disk) is cut back
/// from the file and leaves no index point behind: the appends after it are read right.
TEST_F(JournalIndex, FailedAppendLeavesTheIndexAsItWas)
{
    auto j = open();
    ASSERT_TRUE(j);
    append_small(*j, K + 10);
    const std::uint64_t size = fs::file_size(path());

    std::vector<Entry> big;
    for (std::uint64_t i = 0; i < 3 * K; ++i)
        big.push_back(entry(i, 40));
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = size + (64u << 10);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    auto r = j->append(big);
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);

    ASSERT_FALSE(r);
    EXPECT_EQ(j->last_txn(), K + 10);
    EXPECT_EQ(fs::file_size(path()), size);
    expect_sweep(*j, reference(path()));
    append_small(*j, 3 * K);
    EXPECT_EQ(j->last_txn(), 4 * K + 10);
    expect_sweep(*j, reference(path()));
}

TEST_F(JournalIndex, EntriesLargerThanTheReadChunk)
{
    auto j = open();
    ASSERT_TRUE(j);
    std::uint64_t i = 0;
    for (const std::size_t bytes : {std::size_t{10}, kReadChunkBytes + 1000, std::size_t{0}, 3 * kReadChunkBytes,
                                    kReadChunkBytes - 30, kReadChunkBytes - 29, std::size_t{5}, 2 * kReadChunkBytes}) {
        std::vector<Entry> batch{entry(i++, bytes), entry(i++, 7)};
        ASSERT_TRUE(j->append(batch));
    }
    const std::vector<Entry> ref = reference(path());
    expect_sweep(*j, ref);
    auto again = open();
    ASSERT_TRUE(again);
    expect_sweep(*again, ref);
    // Each large entry is indexed (256 KiB after the last point): reading the small last entry
    // reads from there, not across the large ones before it.
    const std::uint64_t before = again->read_bytes();
    ASSERT_TRUE(again->read_after(again->last_txn() - 1, [](const Entry&) {}));
    EXPECT_LT(again->read_bytes() - before, 2 * kReadChunkBytes + 4096);
}

/// The point of the index: a few entries of a long journal are read from close by.
TEST_F(JournalIndex, ReadsLittleOfALongJournal)
{
    constexpr std::uint64_t kEntries = 200'000;
    auto j = open();
    ASSERT_TRUE(j);
    for (std::uint64_t i = 0; i < kEntries;) {
        std::vector<Entry> batch;
        for (; batch.size() < 65536 && i < kEntries; ++i)
            batch.push_back(entry(i, 24));
        ASSERT_TRUE(j->append(batch));
    }
    const std::uint64_t file = fs::file_size(path());
    ASSERT_GT(file, 10 * kReadChunkBytes);

    auto count_after = [&](std::uint64_t t, std::size_t take) {
        std::vector<std::uint64_t> ids;
        auto r = j->read_after(t, [&](const Entry& e) {
            ids.push_back(e.txn_id);
            return ids.size() < take;
        });
        EXPECT_TRUE(r) << r.error();
        return ids;
    };

    std::uint64_t before = j->read_bytes();
    std::vector<std::uint64_t> last10 = count_after(kEntries - 10, 100);
    ASSERT_EQ(last10.size(), 10u);
    EXPECT_EQ(last10.front(), kEntries - 9);
    EXPECT_EQ(last10.back(), kEntries);
    EXPECT_LT(j->read_bytes() - before, file / 50) << "of " << file;

    before = j->read_bytes();
    std::vector<std::uint64_t> middle = count_after(kEntries / 2, 10);
    ASSERT_EQ(middle.size(), 10u);
    EXPECT_EQ(middle.front(), kEntries / 2 + 1);
    EXPECT_LE(j->read_bytes() - before, kReadChunkBytes);

    before = j->read_bytes();
    EXPECT_TRUE(count_after(kEntries, 10).empty());
    EXPECT_EQ(j->read_bytes(), before) << "a level mirror's pull reads nothing";
}

TEST_F(JournalIndex, DamageFoundWhileReadingIsAnError)
{
    auto j = open();
    ASSERT_TRUE(j);
    append_small(*j, 2 * K);
    {
        std::fstream f(path(), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(kFileHeaderBytes + kEntryHeaderBytes + 20));
        f.put('\x7f');
    }
    auto r = j->read_after(0, [](const Entry&) {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("offset " + std::to_string(kFileHeaderBytes) + ": entry checksum mismatch"), std::string::npos) << r.error();
    // Past the damage, from an index point after it, the rest still reads.
    std::uint64_t n = 0;
    ASSERT_TRUE(j->read_after(K + 5, [&](const Entry&) { ++n; }));
    EXPECT_EQ(n, K - 5);
}

} // namespace
} // namespace idpath::journal
