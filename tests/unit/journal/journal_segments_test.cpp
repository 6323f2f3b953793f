// The segmented journal: sealing at the size, reading across segments, open() over segments,
// the file states a crash at each step of sealing leaves, gaps refused, and retention deleting
// only what both its rules allow (the clock and the snapshot base injected).

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "controlplane/journal/journal.hpp"
#include "tests/unit/fresh_dir.hpp"
#include "controlplane/journal/journal_segments.hpp"

namespace idpath::journal {
namespace {

namespace fs = std::filesystem;

/// Small segments: an entry below is about 150 octets, so a segment holds about 28.
constexpr std::uint64_t kSegmentBytes = 4096;
constexpr std::int64_t kDay = 86'400'000;

class JournalSegments : public test_support::FreshDirTest {
protected:
    fs::path path() const { return dir_ / "changes.journal"; }

    JournalOptions options(std::uint64_t segment_bytes = kSegmentBytes)
    {
        JournalOptions o;
        o.segment_bytes = segment_bytes;
        o.retain_ms = 30 * kDay;
        o.now_ms = [this] { return now_; };
        return o;
    }
    std::unique_ptr<Journal> open(std::uint64_t segment_bytes = kSegmentBytes)
    {
        auto j = Journal::open(path(), options(segment_bytes));
        EXPECT_TRUE(j) << j.error();
        return j ? std::move(*j) : nullptr;
    }

    std::int64_t now_ = 1000 * kDay;
};

Entry entry(std::int64_t date_ms)
{
    Entry e;
    e.date_ms = date_ms;
    e.action = Action::Create;
    e.handle = "88.100.1/item";
    e.value_count = 1;
    e.values.assign(100, 7);
    return e;
}

/// Appends `n` entries dated `date_ms` in batches of 1, 2, 3, ... so seals fall inside batches.
void append(Journal& j, std::uint64_t n, std::int64_t date_ms = 0)
{
    for (std::uint64_t size = 1; n > 0; ++size) {
        std::vector<Entry> batch(std::min(size, n), entry(date_ms));
        n -= batch.size();
        ASSERT_TRUE(j.append(batch));
    }
}

/// Appends entries dated `date_ms` one at a time until the active file is sealed.
void fill_segment(Journal& j, std::int64_t date_ms)
{
    const std::size_t files = j.segments();
    while (j.segments() == files) {
        std::vector<Entry> one{entry(date_ms)};
        ASSERT_TRUE(j.append(one));
    }
}

std::vector<std::uint64_t> ids_after(const Journal& j, std::uint64_t txn)
{
    std::vector<std::uint64_t> ids;
    auto r = j.read_after(txn, [&](const Entry& e) { ids.push_back(e.txn_id); });
    EXPECT_TRUE(r) << r.error();
    return ids;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last)
{
    std::vector<std::uint64_t> v(last >= first ? last - first + 1 : 0);
    std::iota(v.begin(), v.end(), first);
    return v;
}

std::vector<std::uint64_t> sealed_starts(const fs::path& active)
{
    auto files = list_segments(active);
    EXPECT_TRUE(files) << files.error();
    std::vector<std::uint64_t> out;
    for (const SegmentFile& f : *files)
        out.push_back(f.first_txn);
    return out;
}

ScanResult scan_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto r = scan_journal(bytes, {});
    EXPECT_TRUE(r) << p << ": " << r.error();
    return r ? *r : ScanResult{};
}

TEST_F(JournalSegments, SealsOnceAnAppendPassesTheSize)
{
    auto j = open();
    ASSERT_TRUE(j);
    fill_segment(*j, 5);
    const fs::path sealed = segment_path(path(), 1);
    EXPECT_EQ(sealed.filename(), "changes.journal.00000000000000000001");
    ASSERT_TRUE(fs::exists(sealed));
    const auto size = fs::file_size(sealed);
    EXPECT_GE(size, kSegmentBytes);
    EXPECT_LT(size, kSegmentBytes + 200) << "sealed by the first append past the size";
    const ScanResult seg = scan_file(sealed);
    EXPECT_EQ(seg.first_txn, 1u);
    EXPECT_EQ(seg.last_txn, j->last_txn());
    // The new active file holds only its header, saying where it starts.
    EXPECT_EQ(fs::file_size(path()), kFileHeaderBytes);
    EXPECT_EQ(scan_file(path()).start_txn, j->last_txn() + 1);
    EXPECT_EQ(j->segments(), 2u);
    EXPECT_EQ(j->first_txn(), 1u);
    EXPECT_EQ(j->entries(), j->last_txn());
    EXPECT_EQ(j->bytes(), size + kFileHeaderBytes);
    std::vector<Entry> one{entry(5)};
    ASSERT_TRUE(j->append(one));
    EXPECT_EQ(one[0].txn_id, seg.last_txn + 1);
    EXPECT_EQ(scan_file(path()).first_txn, seg.last_txn + 1);
}

TEST_F(JournalSegments, ZeroNeverSeals)
{
    auto j = open(0);
    ASSERT_TRUE(j);
    append(*j, 300);
    EXPECT_EQ(j->segments(), 1u);
    EXPECT_TRUE(sealed_starts(path()).empty());
    EXPECT_GT(fs::file_size(path()), 10 * kSegmentBytes);
}

TEST_F(JournalSegments, ReadsAcrossSegmentsFromEveryTxnAndAfterReopen)
{
    constexpr std::uint64_t kEntries = 300;
    {
        auto j = open();
        ASSERT_TRUE(j);
        append(*j, kEntries);
        ASSERT_EQ(j->last_txn(), kEntries);
        ASSERT_GE(j->segments(), 8u);
        EXPECT_EQ(j->segments(), sealed_starts(path()).size() + 1);
        for (std::uint64_t t = 0; t <= kEntries + 1; ++t)
            ASSERT_EQ(ids_after(*j, t), range(t + 1, kEntries)) << "after " << t;
    }
    auto j = open();
    ASSERT_TRUE(j);
    EXPECT_EQ(j->first_txn(), 1u);
    EXPECT_EQ(j->last_txn(), kEntries);
    EXPECT_EQ(j->entries(), kEntries);
    EXPECT_EQ(j->truncated_bytes(), 0u);
    for (std::uint64_t t = 0; t <= kEntries; ++t)
        ASSERT_EQ(ids_after(*j, t), range(t + 1, kEntries)) << "after " << t;
    // A reader that stops stops there, wherever the segment edges fall.
    const auto starts = sealed_starts(path());
    for (const std::uint64_t edge : starts) {
        std::vector<std::uint64_t> got;
        ASSERT_TRUE(j->read_after(edge > 3 ? edge - 3 : 0, [&](const Entry& e) {
            got.push_back(e.txn_id);
            return got.size() < 6;
        }));
        const std::uint64_t from = edge > 3 ? edge - 2 : 1;
        EXPECT_EQ(got, range(from, from + 5));
    }
    append(*j, 10);
    EXPECT_EQ(ids_after(*j, kEntries - 1), range(kEntries, kEntries + 10));
}

// ---- a crash at each step of sealing -----------------------------------------------------------

/// A journal of sealed segments and an active file holding entries; returns its last txn.
std::uint64_t build(const fs::path& path, const JournalOptions& o)
{
    auto j = Journal::open(path, o);
    EXPECT_TRUE(j) << j.error();
    append(**j, 100);
    if ((*j)->entries() == 0 || fs::file_size(path) == kFileHeaderBytes)
        append(**j, 1);
    return (*j)->last_txn();
}

TEST_F(JournalSegments, CrashBeforeTheRenameSealsAtOpen)
{
    {
        auto j = open(0); // the append passed the size, the crash came before the seal
        ASSERT_TRUE(j);
        append(*j, 60);
    }
    auto j = open();
    ASSERT_TRUE(j);
    EXPECT_EQ(j->segments(), 2u);
    EXPECT_EQ(sealed_starts(path()), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(ids_after(*j, 0), range(1, 60));
    std::vector<Entry> one{entry(0)};
    ASSERT_TRUE(j->append(one));
    EXPECT_EQ(one[0].txn_id, 61u);
}

TEST_F(JournalSegments, CrashAfterTheRenameStartsTheActiveFileAtOpen)
{
    const std::uint64_t last = build(path(), options());
    const std::uint64_t active_first = scan_file(path()).start_txn;
    ASSERT_GT(active_first, 1u);
    fs::rename(path(), segment_path(path(), active_first));
    auto j = open();
    ASSERT_TRUE(j);
    EXPECT_EQ(j->last_txn(), last);
    EXPECT_EQ(scan_file(path()).start_txn, last + 1);
    EXPECT_EQ(ids_after(*j, 0), range(1, last));
    std::vector<Entry> one{entry(0)};
    ASSERT_TRUE(j->append(one));
    EXPECT_EQ(one[0].txn_id, last + 1);
}

TEST_F(JournalSegments, CrashWhileCreatingTheNewActiveFileLeavesNoTrace)
{
    const std::uint64_t last = build(path(), options());
    fs::rename(path(), segment_path(path(), scan_file(path()).start_txn));
    {
        std::ofstream half(creating_path(path()), std::ios::binary);
        half.write("IDPJRNL1\0\0", 10);
    }
    auto j = open();
    ASSERT_TRUE(j);
    EXPECT_FALSE(fs::exists(creating_path(path())));
    EXPECT_EQ(j->last_txn(), last);
    EXPECT_EQ(ids_after(*j, 0), range(1, last));
}

TEST_F(JournalSegments, AnActiveFileTornAtCreationRestartsAfterTheSegments)
{
    const std::uint64_t last = build(path(), options());
    fs::rename(path(), segment_path(path(), scan_file(path()).start_txn));
    {
        std::ofstream torn(path(), std::ios::binary); // an older idpathd wrote it in place
        torn.write("IDPJR", 5);
    }
    auto j = open();
    ASSERT_TRUE(j);
    EXPECT_EQ(j->truncated_bytes(), 5u);
    EXPECT_EQ(scan_file(path()).start_txn, last + 1);
    EXPECT_EQ(ids_after(*j, 0), range(1, last));
}

// ---- refusals ----------------------------------------------------------------------------------

TEST_F(JournalSegments, AGapIsRefusedNamingTheFiles)
{
    build(path(), options());
    const auto starts = sealed_starts(path());
    ASSERT_GE(starts.size(), 3u);
    fs::remove(segment_path(path(), starts[1]));
    auto j = Journal::open(path(), options());
    ASSERT_FALSE(j);
    const std::string want = "gap between " + segment_path(path(), starts[0]).string() + " (txns 1.." +
                             std::to_string(starts[1] - 1) + ") and " + segment_path(path(), starts[2]).string() +
                             " (from txn " + std::to_string(starts[2]) + "): txns " + std::to_string(starts[1]) +
                             ".." + std::to_string(starts[2] - 1) + " are missing";
    EXPECT_NE(j.error().find(want), std::string::npos) << j.error();
}

TEST_F(JournalSegments, AMissingLastSegmentIsAGapBeforeTheActiveFile)
{
    build(path(), options());
    const auto starts = sealed_starts(path());
    fs::remove(segment_path(path(), starts.back()));
    auto j = Journal::open(path(), options());
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().find("gap between"), std::string::npos) << j.error();
    EXPECT_NE(j.error().find(path().string() + " (from txn"), std::string::npos) << j.error();
}

TEST_F(JournalSegments, ASegmentUnderAnotherNameIsRefused)
{
    build(path(), options());
    const auto starts = sealed_starts(path());
    fs::rename(segment_path(path(), starts[1]), segment_path(path(), starts[1] + 1));
    auto j = Journal::open(path(), options());
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().find(segment_path(path(), starts[1] + 1).string() + ": journal: sealed segment starts at txn " +
                             std::to_string(starts[1])),
              std::string::npos)
        << j.error();
}

TEST_F(JournalSegments, ASealedSegmentCutShortIsRefused)
{
    build(path(), options());
    const fs::path first = segment_path(path(), 1);
    fs::resize_file(first, fs::file_size(first) - 3);
    auto j = Journal::open(path(), options());
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().find(first.string() + ": journal: sealed segment"), std::string::npos) << j.error();
}

TEST(JournalSegmentSpans, ConsecutiveGapAndOverlap)
{
    EXPECT_EQ(check_consecutive({{"a", 1, 10}, {"b", 11, 20}, {"c", 21, 20}}), "");
    EXPECT_EQ(check_consecutive({{"a", 1, 10}, {"b", 14, 20}}),
              "journal: gap between a (txns 1..10) and b (from txn 14): txns 11..13 are missing; restore the "
              "segment holding them");
    EXPECT_EQ(check_consecutive({{"a", 1, 10}, {"b", 8, 20}}),
              "journal: overlap between a (txns 1..10) and b (from txn 8): txns 8..10 are in both");
}

TEST(JournalSegmentNames, OnlyTwentyDigitSuffixesAreSegments)
{
    const fs::path dir = fs::temp_directory_path() / ("idpath-journal-names-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* name : {"j", "j.00000000000000000007", "j.00000000000000000002", "j.bak", "j.txn",
                             "j.0000000000000000001", "j.0000000000000000000x", "k.00000000000000000003"})
        std::ofstream(dir / name) << "x";
    auto files = list_segments(dir / "j");
    ASSERT_TRUE(files) << files.error();
    ASSERT_EQ(files->size(), 2u);
    EXPECT_EQ((*files)[0].first_txn, 2u);
    EXPECT_EQ((*files)[0].path, dir / "j.00000000000000000002");
    EXPECT_EQ((*files)[1].first_txn, 7u);
    fs::remove_all(dir);
}

// ---- journals written before segments -----------------------------------------------------------

TEST_F(JournalSegments, AVersion1JournalIsReadAndSealedAsItIs)
{
    {
        std::vector<std::uint8_t> f = {'I', 'D', 'P', 'J', 'R', 'N', 'L', '1', 0, 0, 0, 1, 0, 0, 0, 0};
        for (std::uint64_t t = 1; t <= 40; ++t) {
            Entry e = entry(0);
            e.txn_id = t;
            encode_entry(e, f);
        }
        std::ofstream(path(), std::ios::binary).write(reinterpret_cast<const char*>(f.data()),
                                                      static_cast<std::streamsize>(f.size()));
    }
    {
        auto j = open(0);
        ASSERT_TRUE(j);
        EXPECT_EQ(j->first_txn(), 1u);
        EXPECT_EQ(j->last_txn(), 40u);
        append(*j, 2);
        EXPECT_EQ(ids_after(*j, 38), range(39, 42));
    }
    auto j = open(); // over the size: sealed at open, still version 1
    ASSERT_TRUE(j);
    EXPECT_EQ(sealed_starts(path()), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(scan_file(segment_path(path(), 1)).header_bytes, kFileHeaderV1Bytes);
    append(*j, 3);
    EXPECT_EQ(ids_after(*j, 0), range(1, 45));
    j.reset();
    j = open();
    ASSERT_TRUE(j);
    EXPECT_EQ(ids_after(*j, 40), range(41, 45));
}

// ---- retention ---------------------------------------------------------------------------------

TEST_F(JournalSegments, RetentionNeedsBothAgeAndTheSnapshot)
{
    auto j = open();
    ASSERT_TRUE(j);
    // Four sealed segments: the first three old, the last recent.
    const std::int64_t old_ms = now_ - 60 * kDay;
    for (int i = 0; i < 3; ++i)
        fill_segment(*j, old_ms + i);
    fill_segment(*j, now_ - kDay);
    append(*j, 2, now_);
    const auto starts = sealed_starts(path());
    ASSERT_EQ(starts.size(), 4u);

    // No snapshot yet: a restart needs every entry.
    EXPECT_EQ(j->enforce_retention(), 0u);
    // The snapshot holds the first segment and part of the second: only the first may go.
    j->set_snapshot_base(starts[2] - 2);
    EXPECT_EQ(j->segments_deleted(), 1u);
    EXPECT_FALSE(fs::exists(segment_path(path(), starts[0])));
    EXPECT_TRUE(fs::exists(segment_path(path(), starts[1])));
    EXPECT_EQ(j->first_txn(), starts[1]);
    // The snapshot holds everything: the old ones go, the recent one and the active file stay.
    j->set_snapshot_base(j->last_txn());
    EXPECT_EQ(j->segments_deleted(), 3u);
    EXPECT_EQ(sealed_starts(path()), (std::vector<std::uint64_t>{starts[3]}));
    EXPECT_EQ(j->first_txn(), starts[3]);
    EXPECT_EQ(j->entries(), j->last_txn() - starts[3] + 1);
    EXPECT_EQ(ids_after(*j, 0), range(starts[3], j->last_txn()));
    // Older than 30 days only once the clock says so.
    now_ += 29 * kDay;
    EXPECT_EQ(j->enforce_retention(), 0u);
    now_ += 2 * kDay;
    EXPECT_EQ(j->enforce_retention(), 1u);
    EXPECT_EQ(j->segments(), 1u);
    EXPECT_TRUE(fs::exists(path()));
}

TEST_F(JournalSegments, RetentionStopsAtTheFirstSegmentThatMustStay)
{
    auto j = open();
    ASSERT_TRUE(j);
    fill_segment(*j, now_ - 60 * kDay);
    fill_segment(*j, now_ - kDay); // young: stays, and so does everything after it
    fill_segment(*j, now_ - 60 * kDay);
    j->set_snapshot_base(j->last_txn());
    const auto starts = sealed_starts(path());
    ASSERT_EQ(starts.size(), 2u);
    EXPECT_EQ(j->segments_deleted(), 1u);
    EXPECT_EQ(j->first_txn(), starts[0]);
    EXPECT_TRUE(ids_after(*j, 0).front() == starts[0]);
}

TEST_F(JournalSegments, RetentionRunsWhenASegmentIsSealed)
{
    auto j = open();
    ASSERT_TRUE(j);
    fill_segment(*j, now_ - 60 * kDay);
    j->set_snapshot_base(j->last_txn() + 1000); // a snapshot ahead of what is sealed yet
    EXPECT_EQ(j->segments_deleted(), 1u);
    // The next seal is followed at once by its deletion, in the same append.
    for (int i = 0; i < 100 && j->segments_deleted() == 1; ++i) {
        std::vector<Entry> one{entry(now_ - 60 * kDay)};
        ASSERT_TRUE(j->append(one));
        ASSERT_EQ(j->segments(), 1u);
    }
    EXPECT_EQ(j->segments_deleted(), 2u) << "deleted at its seal";
    EXPECT_EQ(j->first_txn(), j->last_txn() + 1);
}

TEST_F(JournalSegments, PullsBeforeTheOldestRetainedTxnCannotBeCovered)
{
    std::uint64_t last = 0;
    std::uint64_t first = 0;
    {
        auto j = open();
        ASSERT_TRUE(j);
        EXPECT_TRUE(j->covers_after(0)) << "an empty journal from txn 1";
        for (int i = 0; i < 3; ++i)
            fill_segment(*j, now_ - 60 * kDay);
        EXPECT_TRUE(j->covers_after(0));
        j->set_snapshot_base(j->last_txn());
        // Every sealed segment went; the active file is empty and starts after them.
        last = j->last_txn();
        first = j->first_txn();
        EXPECT_EQ(first, last + 1);
        EXPECT_EQ(j->entries(), 0u);
        EXPECT_FALSE(j->covers_after(0));
        EXPECT_FALSE(j->covers_after(last - 1));
        EXPECT_TRUE(j->covers_after(last));
        EXPECT_FALSE(j->covers_after(last + 1)) << "a mirror ahead of the journal";
    }
    auto j = open(); // what retention deleted stays deleted
    ASSERT_TRUE(j);
    EXPECT_EQ(j->first_txn(), first);
    EXPECT_EQ(j->last_txn(), last);
    EXPECT_FALSE(j->covers_after(last - 1));
    std::vector<Entry> one{entry(now_)};
    ASSERT_TRUE(j->append(one));
    EXPECT_EQ(one[0].txn_id, last + 1);
    EXPECT_EQ(ids_after(*j, 0), (std::vector<std::uint64_t>{last + 1}));
}

} // namespace
} // namespace idpath::journal
