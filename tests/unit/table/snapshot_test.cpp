// Snapshot format (dataplane/table/snapshot.hpp): round trips of random, updated and empty
// tables, and refusal of every truncation, every flipped bit, crafted structure and foreign
// headers, each with a reason.

#include "dataplane/table/snapshot.hpp"

#include <gtest/gtest.h>

#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "tests/unit/table/snapshot_test_util.hpp"

namespace idpath::table::snapshot {
namespace {

using testing::Fixture;
using testing::random_table;

const SnapshotMeta kMeta{1750000000, "unit test"};

// Field offsets as docs/snapshot-format.md gives them: the tests check the document too.
constexpr std::size_t kFormatVersionAt = 8;
constexpr std::size_t kEndianAt = 12;
constexpr std::size_t kLayoutVersionAt = 16;
constexpr std::size_t kRecordsAt = 48;
constexpr std::size_t kHomedOffsetAt = 88;
constexpr std::size_t kHomedBytesAt = 96;
constexpr std::size_t kChecksumAt = 248;
constexpr std::size_t kEntryArenaBytesAt = 48;
constexpr std::size_t kEntryChecksumAt = 56;

template <class T>
T get(const std::vector<std::uint8_t>& f, std::size_t at)
{
    T v;
    std::memcpy(&v, f.data() + at, sizeof v);
    return v;
}

template <class T>
void put(std::vector<std::uint8_t>& f, std::size_t at, T v)
{
    std::memcpy(f.data() + at, &v, sizeof v);
}

/// Recomputes the head checksum, so a test reaches the checks behind it.
void reseal_head(std::vector<std::uint8_t>& f)
{
    const std::size_t end = get<std::uint64_t>(f, kHomedOffsetAt) + get<std::uint64_t>(f, kHomedBytesAt);
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, f.data(), kChecksumAt);
    XXH3_64bits_update(&st, f.data() + kHeaderBytes, end - kHeaderBytes);
    put<std::uint64_t>(f, kChecksumAt, XXH3_64bits_digest(&st));
}

/// Recomputes shard `s`'s checksum in the directory, then the head's.
void reseal_shard(std::vector<std::uint8_t>& f, const ShardEntry& d, std::size_t s)
{
    const ByteSpan file(f);
    const std::uint64_t sum = shard_checksum(file.subspan(d.buckets_offset, std::uint64_t{d.bucket_count} * 64),
                                             file.subspan(d.arena_offset, d.arena_bytes));
    put<std::uint64_t>(f, kHeaderBytes + s * kDirectoryEntryBytes + kEntryChecksumAt, sum);
    reseal_head(f);
}

std::string load_error(const std::vector<std::uint8_t>& f)
{
    auto r = load_snapshot(f);
    if (r)
        return "";
    return r.error();
}

void expect_round_trip(const Fixture& f)
{
    const auto file = encode_snapshot(*f.table, kMeta);
    auto loaded = load_snapshot(file);
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    testing::expect_content(**loaded, f);
    testing::expect_same_image(*f.table, **loaded);
    // One table, one file: the loaded table saves to the same octets.
    EXPECT_EQ(encode_snapshot(**loaded, kMeta), file);
}

TEST(Snapshot, RoundTripsRandomTables)
{
    for (const std::size_t n : {std::size_t{1}, std::size_t{1000}, std::size_t{150000}}) {
        SCOPED_TRACE(n);
        expect_round_trip(random_table(n, n));
    }
}

TEST(Snapshot, RoundTripsSeveralShards)
{
    const Fixture f = random_table(150000, 3);
    ASSERT_GT(f.table->shard_count(), 1u) << "the test wants several shards";
    const auto file = encode_snapshot(*f.table, kMeta);
    const auto info = read_snapshot_head(file);
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_EQ(info->shards.size(), f.table->shard_count());
    EXPECT_EQ(info->records, 150000u);
    EXPECT_EQ(info->source, "unit test");
    EXPECT_EQ(info->created_unix, 1750000000);
    EXPECT_EQ(info->homed, (std::vector<std::string>{"86.5", "88.100.1"}));
    EXPECT_EQ(info->data_offset % kDataAlign, 0u);
    for (const auto& d : info->shards)
        EXPECT_EQ(d.buckets_offset % kShardAlign, 0u);
}

TEST(Snapshot, RoundTripsAnEmptyTable)
{
    Fixture f;
    f.table = TableBuilder().build();
    expect_round_trip(f);
}

TEST(Snapshot, RoundTripsATableAfterUpdates)
{
    Fixture f = random_table(3000, 5);
    testing::churn(f, 3000, 6);
    std::uint64_t tombstones = 0;
    std::uint64_t garbage = 0;
    for (std::size_t s = 0; s < f.table->shard_count(); ++s) {
        tombstones += f.table->shard_image(s).tombstones;
        garbage += f.table->shard_image(s).garbage_bytes;
    }
    EXPECT_GT(garbage, 0u) << "updates should leave garbage to carry";
    EXPECT_GT(tombstones, 0u) << "erases should leave tombstones to carry";
    expect_round_trip(f);

    f.table->compact(0, f.retired);
    expect_round_trip(f);
}

TEST(Snapshot, LongSourceIsCut)
{
    const Fixture f = random_table(10, 1);
    const auto file = encode_snapshot(*f.table, {0, std::string(500, 's')});
    const auto info = read_snapshot_head(file);
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_EQ(info->source, std::string(kSourceBytes, 's'));
}

TEST(Snapshot, RefusesEveryTruncation)
{
    const Fixture f = random_table(300, 7);
    const auto file = encode_snapshot(*f.table, kMeta);
    const auto info = read_snapshot_head(file);
    ASSERT_TRUE(info.ok());
    for (std::size_t len = 0; len < file.size(); ++len) {
        const std::vector<std::uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(len));
        const std::string e = load_error(cut);
        ASSERT_FALSE(e.empty()) << "length " << len << " loaded";
        ASSERT_EQ(e.rfind("snapshot: ", 0), 0u) << e;
        if (len >= kHeaderBytes) {
            ASSERT_EQ(e, "snapshot: truncated: header says " + std::to_string(file.size()) + " octets, file has " +
                             std::to_string(len));
        }
    }
    EXPECT_EQ(load_error(std::vector<std::uint8_t>(file.begin(), file.begin() + 100)),
              "snapshot: truncated: file has 100 octets, the header alone is 256");
    EXPECT_EQ(load_error({}), "snapshot: not a snapshot file (no IDPSNAP magic)");
    auto longer = file;
    longer.push_back(0);
    EXPECT_EQ(load_error(longer), "snapshot: 1 octets after the end the header gives (" + std::to_string(file.size()) + ")");
}

/// Every bit of header, directory, homed list and padding, and a sample of the data's.
TEST(Snapshot, RefusesAnyFlippedBit)
{
    const Fixture f = random_table(300, 8);
    const auto file = encode_snapshot(*f.table, kMeta);
    const auto info = read_snapshot_head(file);
    ASSERT_TRUE(info.ok());
    ASSERT_FALSE(info->homed.empty());
    auto flipped = file;
    auto try_bit = [&](std::size_t at, unsigned bit) {
        flipped[at] ^= static_cast<std::uint8_t>(1u << bit);
        const std::string e = load_error(flipped);
        flipped[at] = file[at];
        return e;
    };
    for (std::size_t at = 0; at < info->data_offset; ++at)
        for (unsigned bit = 0; bit < 8; ++bit)
            ASSERT_FALSE(try_bit(at, bit).empty()) << "octet " << at << " bit " << bit;
    std::mt19937_64 rng(9);
    for (int k = 0; k < 3000; ++k) {
        const std::size_t at = info->data_offset + rng() % (file.size() - info->data_offset);
        ASSERT_FALSE(try_bit(at, static_cast<unsigned>(rng() % 8)).empty()) << "octet " << at;
    }
    // A bit in a shard names the shard.
    const auto& d = info->shards[0];
    EXPECT_EQ(try_bit(static_cast<std::size_t>(d.arena_offset + 8), 3), "snapshot: shard 0: checksum mismatch");
    EXPECT_EQ(try_bit(static_cast<std::size_t>(d.buckets_offset), 0), "snapshot: shard 0: checksum mismatch");
    EXPECT_EQ(try_bit(140, 0), "snapshot: header checksum mismatch (header, directory or homed list damaged)");
}

TEST(Snapshot, CheckRefusesASlotPastItsArenaDespiteGoodChecksums)
{
    const Fixture f = random_table(300, 10);
    auto file = encode_snapshot(*f.table, kMeta);
    const auto info = read_snapshot_head(file);
    ASSERT_TRUE(info.ok());
    const ShardEntry& d = info->shards[0];
    // Slot: tag in bits 63..48, arena offset in 47..0; 0 is empty, 1 a tombstone.
    std::size_t at = d.buckets_offset;
    while (get<std::uint64_t>(file, at) <= 1)
        at += 8;
    const std::uint64_t slot = get<std::uint64_t>(file, at);
    put<std::uint64_t>(file, at, (slot & ~((std::uint64_t{1} << 48) - 1)) | (d.arena_bytes + 64));
    reseal_shard(file, d, 0);
    ASSERT_TRUE(read_snapshot_head(file).ok()) << "the head must still check";
    const std::string e = load_error(file);
    EXPECT_EQ(e.rfind("snapshot: shard 0", 0), 0u) << e;
}

TEST(Snapshot, CheckRefusesARecordRunningPastItsArena)
{
    const Fixture f = random_table(300, 11);
    auto file = encode_snapshot(*f.table, kMeta);
    const auto info = read_snapshot_head(file);
    ASSERT_TRUE(info.ok());
    const ShardEntry& d = info->shards[0];
    std::size_t at = d.buckets_offset;
    while (get<std::uint64_t>(file, at) <= 1)
        at += 8;
    // The record's header starts with its encoded length (docs/snapshot-format.md).
    const std::size_t record = d.arena_offset + (get<std::uint64_t>(file, at) & ((std::uint64_t{1} << 48) - 1));
    put<std::uint32_t>(file, record, 0x7fffffff);
    reseal_shard(file, d, 0);
    const std::string e = load_error(file);
    EXPECT_EQ(e.rfind("snapshot: shard 0", 0), 0u) << e;
}

TEST(Snapshot, RefusesForeignHeadersByName)
{
    const Fixture f = random_table(50, 12);
    const auto file = encode_snapshot(*f.table, kMeta);
    {
        auto bad = file;
        bad[0] = 'X';
        EXPECT_EQ(load_error(bad), "snapshot: not a snapshot file (no IDPSNAP magic)");
    }
    {
        auto bad = file;
        put<std::uint32_t>(bad, kFormatVersionAt, 2);
        reseal_head(bad);
        EXPECT_EQ(load_error(bad), "snapshot: format version 2, this idpathd reads 1");
    }
    {
        auto bad = file;
        put<std::uint32_t>(bad, kEndianAt, 0x04030201);
        reseal_head(bad);
        EXPECT_EQ(load_error(bad), "snapshot: big-endian file; this idpathd reads little-endian snapshots");
    }
    {
        auto bad = file;
        put<std::uint32_t>(bad, kLayoutVersionAt, 7);
        reseal_head(bad);
        EXPECT_EQ(load_error(bad),
                  "snapshot: table layout version 7, this idpathd reads 1 (make a new snapshot from the source data)");
    }
    {
        auto bad = file;
        put<std::uint64_t>(bad, kRecordsAt, get<std::uint64_t>(bad, kRecordsAt) + 1);
        reseal_head(bad);
        const std::string e = load_error(bad);
        EXPECT_NE(e.find("the header says 51"), std::string::npos) << e;
    }
    {
        auto bad = file;
        const std::size_t entry = kHeaderBytes;
        put<std::uint64_t>(bad, entry + kEntryArenaBytesAt, get<std::uint64_t>(bad, entry + kEntryArenaBytesAt) + 4096 * 1000);
        reseal_head(bad);
        const std::string e = load_error(bad);
        EXPECT_EQ(e.rfind("snapshot: shard 0: ", 0), 0u) << e;
    }
}

} // namespace
} // namespace idpath::table::snapshot
