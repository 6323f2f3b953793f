// The sink spool (controlplane/mirror/core/spool.hpp): order, restarts, the bound, push_front,
// and damaged segments skipped and counted without a crash.

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/core/spool.hpp"
#include "tests/unit/mirror/core/core_test_support.hpp"

namespace idpath::mirror {
namespace {

using test::batch;
using test::segment_files;
using test::TempDir;

const Origin kOrigin{"node-1", "test"};

std::unique_ptr<Spool> open_spool(const std::filesystem::path& dir, std::uint64_t max_bytes = 1u << 30,
                                  std::uint64_t segment_bytes = 0)
{
    auto s = Spool::open({dir, max_bytes, segment_bytes}, kOrigin);
    EXPECT_TRUE(s) << (s ? "" : s.error());
    return s ? std::move(*s) : nullptr;
}

std::size_t encoded_size(const Batch& b)
{
    std::string out;
    encode_binary(b, kOrigin, out);
    return out.size();
}

/// Pops everything, returning the batch ids in the order they came out.
std::vector<std::uint64_t> drain(Spool& s)
{
    std::vector<std::uint64_t> ids;
    while (const Batch* b = s.front()) {
        EXPECT_TRUE(b->replayed);
        ids.push_back(b->id);
        s.pop();
    }
    return ids;
}

TEST(SpoolTest, BatchesComeOutInOrderMarkedReplayedAndFilesGo)
{
    TempDir dir;
    auto s = open_spool(dir.path() / "sink", 1u << 30, 4096); // several segments
    ASSERT_TRUE(s);
    for (std::uint64_t id = 1; id <= 40; ++id)
        ASSERT_TRUE(s->push_back(batch(id, 1, id * 10, 10)));
    EXPECT_EQ(s->batches(), 40u);
    EXPECT_EQ(s->records(), 400u);
    EXPECT_GT(segment_files(dir.path() / "sink"), 1u);
    const Batch* f = s->front();
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->records.size(), 10u);
    EXPECT_EQ(f->records[3].seq, 13u);
    std::vector<std::uint64_t> want;
    for (std::uint64_t id = 1; id <= 40; ++id)
        want.push_back(id);
    EXPECT_EQ(drain(*s), want);
    EXPECT_TRUE(s->empty());
    EXPECT_EQ(s->bytes(), 0u);
    EXPECT_EQ(segment_files(dir.path() / "sink"), 0u);
}

TEST(SpoolTest, ANewSpoolOnTheSameDirectoryReplaysWhatWasLeft)
{
    TempDir dir;
    {
        auto s = open_spool(dir.path(), 1u << 30, 1); // one batch per segment
        for (std::uint64_t id = 1; id <= 6; ++id)
            ASSERT_TRUE(s->push_back(batch(id, 2, id, 3)));
        ASSERT_NE(s->front(), nullptr);
        s->pop(); // 1 consumed: its segment deleted
        ASSERT_NE(s->front(), nullptr);
        s->pop();
    }
    auto again = open_spool(dir.path());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->batches(), 4u);
    EXPECT_EQ(again->records(), 12u);
    EXPECT_NE(again->front_time_ns(), 0u);
    // New batches go behind the old ones.
    ASSERT_TRUE(again->push_back(batch(7, 2, 7, 3)));
    EXPECT_EQ(drain(*again), (std::vector<std::uint64_t>{3, 4, 5, 6, 7}));
}

TEST(SpoolTest, AFullSpoolRefusesTheNewBatchAndKeepsTheRest)
{
    TempDir dir;
    const std::size_t one = encoded_size(batch(1, 1, 1, 5));
    auto s = open_spool(dir.path(), 3 * one + one / 2);
    ASSERT_TRUE(s);
    for (std::uint64_t id = 1; id <= 3; ++id)
        ASSERT_TRUE(s->push_back(batch(id, 1, id * 5, 5)));
    auto r = s->push_back(batch(4, 1, 20, 5));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, SpoolError::Kind::Full);
    EXPECT_FALSE(s->push_front(batch(0, 1, 0, 5)));
    EXPECT_LE(s->bytes(), s->max_bytes());
    EXPECT_EQ(drain(*s), (std::vector<std::uint64_t>{1, 2, 3}));
    // Room again once drained.
    EXPECT_TRUE(s->push_back(batch(5, 1, 25, 5)));
}

TEST(SpoolTest, PushFrontComesOutBeforeEverythingSpooled)
{
    TempDir dir;
    auto s = open_spool(dir.path());
    ASSERT_TRUE(s->push_back(batch(2, 1, 2, 1)));
    ASSERT_TRUE(s->push_back(batch(3, 1, 3, 1)));
    ASSERT_EQ(s->front()->id, 2u); // the segment is loaded now
    ASSERT_TRUE(s->push_front(batch(1, 1, 1, 1)));
    EXPECT_EQ(s->batches(), 3u);
    EXPECT_EQ(drain(*s), (std::vector<std::uint64_t>{1, 2, 3}));
    // Survives a restart too.
    ASSERT_TRUE(s->push_back(batch(5, 1, 5, 1)));
    ASSERT_TRUE(s->push_front(batch(4, 1, 4, 1)));
    s.reset();
    auto again = open_spool(dir.path());
    EXPECT_EQ(drain(*again), (std::vector<std::uint64_t>{4, 5}));
}

TEST(SpoolTest, ATruncatedSegmentTailIsSkippedAndCounted)
{
    TempDir dir;
    std::size_t tail_bytes = 0;
    {
        auto s = open_spool(dir.path(), 1u << 30, 1u << 20); // all in one segment
        for (std::uint64_t id = 1; id <= 3; ++id)
            ASSERT_TRUE(s->push_back(batch(id, 1, id * 4, 4)));
        tail_bytes = encoded_size(batch(3, 1, 12, 4));
    }
    ASSERT_EQ(segment_files(dir.path()), 1u);
    const auto seg = std::filesystem::directory_iterator(dir.path())->path();
    const auto size = std::filesystem::file_size(seg);
    std::filesystem::resize_file(seg, size - 7); // a crash mid-write of batch 3
    auto s = open_spool(dir.path());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->batches(), 2u); // what decodes
    EXPECT_EQ(drain(*s), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(s->corrupt_segments(), 1u);
    EXPECT_EQ(s->corrupt_bytes(), tail_bytes - 7);
    EXPECT_TRUE(s->empty());
    EXPECT_EQ(s->bytes(), 0u);
    EXPECT_EQ(segment_files(dir.path()), 0u);
}

TEST(SpoolTest, GarbageSegmentsAndStrayFilesNeverCrash)
{
    TempDir dir;
    {
        std::ofstream(dir.path() / "00000001099511627776.seg") << std::string(1000, '\x5a');
        std::ofstream(dir.path() / "00000001099511627777.seg"); // empty: a crash at creation
        std::ofstream(dir.path() / "README") << "not a segment";
    }
    auto s = open_spool(dir.path());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->batches(), 0u);
    ASSERT_TRUE(s->push_back(batch(9, 1, 1, 2)));
    EXPECT_EQ(drain(*s), (std::vector<std::uint64_t>{9}));
    EXPECT_EQ(s->corrupt_segments(), 1u);
    EXPECT_EQ(s->corrupt_bytes(), 1000u);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "README"));
}

TEST(SpoolTest, AnUnusableDirectoryIsAnError)
{
    TempDir dir;
    std::ofstream(dir.path() / "file") << "x";
    auto s = Spool::open({dir.path() / "file" / "sub", 1u << 20, 0}, kOrigin);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("spool:"), std::string::npos);
}

} // namespace
} // namespace idpath::mirror
