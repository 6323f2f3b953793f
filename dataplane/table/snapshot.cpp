#include "dataplane/table/snapshot.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <new>
#include <string_view>

#include "dataplane/table/layout.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace idpath::table::snapshot {

// The file is the memory image: these are the layout.hpp facts kLayoutVersion 1 stands for. If
// one fails to compile, the layout changed: bump kLayoutVersion (old files must be refused),
// then update these and docs/snapshot-format.md.
static_assert(std::endian::native == std::endian::little, "snapshots are little-endian images");
static_assert(layout::kBucketBytes == 64 && layout::kSlotsPerBucket == 8);
static_assert(layout::kOffsetMask == (std::uint64_t{1} << 48) - 1 && layout::kTombstone == 1);
static_assert(layout::kTagBit == 0x8000 && layout::kFirstRecord == 4 && layout::kHeaderSize == 8);
static_assert(layout::kAllPublicFlag == 0x8000 && layout::kCountMask == 0x0fff && layout::kMaxShardBits == 16);
static_assert(sizeof(ValueEntry) == 8);

namespace {

// Header field offsets (docs/snapshot-format.md has the table).
namespace hdr {
inline constexpr std::size_t kMagic = 0;
inline constexpr std::size_t kFormatVersion = 8;
inline constexpr std::size_t kEndian = 12;
inline constexpr std::size_t kLayoutVersion = 16;
inline constexpr std::size_t kHeaderBytes = 20;
inline constexpr std::size_t kHashId = 24; // 16 octets
inline constexpr std::size_t kShardBits = 40;
inline constexpr std::size_t kShardCount = 44;
inline constexpr std::size_t kRecords = 48;
inline constexpr std::size_t kValueBytes = 56;
inline constexpr std::size_t kCreated = 64;
inline constexpr std::size_t kDirectoryOffset = 72;
inline constexpr std::size_t kDirectoryBytes = 80;
inline constexpr std::size_t kHomedOffset = 88;
inline constexpr std::size_t kHomedBytes = 96;
inline constexpr std::size_t kHomedCount = 104;
inline constexpr std::size_t kDataOffset = 112;
inline constexpr std::size_t kDataBytes = 120;
inline constexpr std::size_t kFileBytes = 128;
inline constexpr std::size_t kSource = 136; // kSourceBytes octets
inline constexpr std::size_t kReserved = kSource + kSourceBytes;
inline constexpr std::size_t kChecksum = 248;
static_assert(kReserved <= kChecksum && kChecksum + 8 == snapshot::kHeaderBytes);
} // namespace hdr

// Directory entry field offsets.
namespace dir {
inline constexpr std::size_t kBucketCount = 0;
inline constexpr std::size_t kRecords = 4;
inline constexpr std::size_t kTombstones = 8;
inline constexpr std::size_t kReserved = 12;
inline constexpr std::size_t kValueBytes = 16;
inline constexpr std::size_t kGarbageBytes = 24;
inline constexpr std::size_t kBucketsOffset = 32;
inline constexpr std::size_t kArenaOffset = 40;
inline constexpr std::size_t kArenaBytes = 48;
inline constexpr std::size_t kChecksum = 56;
static_assert(kChecksum + 8 == kDirectoryEntryBytes);
} // namespace dir

inline constexpr std::size_t kHashIdBytes = 16;
/// Copy-and-hash step of load_shard(): the copy is still in cache when it is hashed.
inline constexpr std::size_t kChunk = std::size_t{256} << 10;

template <class T>
T get(const std::uint8_t* base, std::size_t at) noexcept
{
    T v;
    std::memcpy(&v, base + at, sizeof v);
    return v;
}

template <class T>
void put(std::vector<std::uint8_t>& out, std::size_t at, T v) noexcept
{
    std::memcpy(out.data() + at, &v, sizeof v);
}

constexpr std::uint64_t round_up(std::uint64_t n, std::uint64_t to) noexcept { return (n + to - 1) / to * to; }

std::string err(std::string_view what) { return "snapshot: " + std::string(what); }

std::string num(std::uint64_t v) { return std::to_string(v); }

/// Padding is zero: then no octet of a file is unchecked, and a flipped bit anywhere is caught.
bool zero(ByteSpan file, std::uint64_t from, std::uint64_t to) noexcept
{
    return std::all_of(file.begin() + static_cast<std::ptrdiff_t>(from), file.begin() + static_cast<std::ptrdiff_t>(to),
                       [](std::uint8_t c) { return c == 0; });
}

/// XXH3-64 of the head: everything before the data section but the checksum field itself.
std::uint64_t head_checksum(const std::uint8_t* head, std::size_t head_bytes) noexcept
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, head, hdr::kChecksum);
    XXH3_64bits_update(&st, head + kHeaderBytes, head_bytes - kHeaderBytes);
    return XXH3_64bits_digest(&st);
}

struct Layout {
    std::vector<ShardImage> images;
    std::vector<std::uint64_t> buckets_offset;
    std::uint64_t homed_offset = 0;
    std::uint64_t homed_bytes = 0;
    std::uint64_t data_offset = 0;
    std::uint64_t file_bytes = 0;
};

Layout lay_out(const Table& table, const std::vector<std::string>& homed)
{
    Layout l;
    const std::size_t shards = table.shard_count();
    l.homed_offset = kHeaderBytes + shards * kDirectoryEntryBytes;
    for (const auto& p : homed)
        l.homed_bytes += 4 + p.size();
    l.data_offset = round_up(l.homed_offset + l.homed_bytes, kDataAlign);
    std::uint64_t at = l.data_offset;
    for (std::size_t s = 0; s < shards; ++s) {
        l.images.push_back(table.shard_image(s));
        l.buckets_offset.push_back(at);
        at = round_up(at + l.images.back().buckets.size() + l.images.back().arena.size(), kShardAlign);
    }
    l.file_bytes = at;
    return l;
}

} // namespace

std::uint64_t shard_checksum(ByteSpan buckets, ByteSpan arena) noexcept
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, buckets.data(), buckets.size());
    XXH3_64bits_update(&st, arena.data(), arena.size());
    return XXH3_64bits_digest(&st);
}

SnapshotPlan plan_snapshot(const Table& table, const SnapshotMeta& meta, std::span<const std::uint64_t> checksums)
{
    std::vector<std::string> homed = table.homed_prefixes();
    // Sorted, so one table gives one file whatever its hash set's order.
    std::sort(homed.begin(), homed.end());
    const Layout l = lay_out(table, homed);
    const std::size_t shards = l.images.size();

    SnapshotPlan plan;
    plan.file_bytes = l.file_bytes;
    auto& h = plan.head;
    h.assign(l.homed_offset + l.homed_bytes, 0);
    std::memcpy(h.data() + hdr::kMagic, kMagic, sizeof kMagic);
    put<std::uint32_t>(h, hdr::kFormatVersion, kFormatVersion);
    put<std::uint32_t>(h, hdr::kEndian, kEndianMarker);
    put<std::uint32_t>(h, hdr::kLayoutVersion, kLayoutVersion);
    put<std::uint32_t>(h, hdr::kHeaderBytes, kHeaderBytes);
    std::memcpy(h.data() + hdr::kHashId, kHashId, sizeof kHashId - 1);
    put<std::uint32_t>(h, hdr::kShardBits, table.shard_bits());
    put<std::uint32_t>(h, hdr::kShardCount, static_cast<std::uint32_t>(shards));
    put<std::int64_t>(h, hdr::kCreated, meta.created_unix);
    put<std::uint64_t>(h, hdr::kDirectoryOffset, kHeaderBytes);
    put<std::uint64_t>(h, hdr::kDirectoryBytes, shards * kDirectoryEntryBytes);
    put<std::uint64_t>(h, hdr::kHomedOffset, l.homed_offset);
    put<std::uint64_t>(h, hdr::kHomedBytes, l.homed_bytes);
    put<std::uint64_t>(h, hdr::kHomedCount, homed.size());
    put<std::uint64_t>(h, hdr::kDataOffset, l.data_offset);
    put<std::uint64_t>(h, hdr::kDataBytes, l.file_bytes - l.data_offset);
    put<std::uint64_t>(h, hdr::kFileBytes, l.file_bytes);
    std::memcpy(h.data() + hdr::kSource, meta.source.data(), std::min(meta.source.size(), kSourceBytes));

    // Totals from the shards written, not from the table's relaxed figures.
    std::uint64_t records = 0;
    std::uint64_t value_bytes = 0;
    for (std::size_t s = 0; s < shards; ++s) {
        const ShardImage& img = l.images[s];
        const std::size_t at = kHeaderBytes + s * kDirectoryEntryBytes;
        const std::uint64_t arena_offset = l.buckets_offset[s] + img.buckets.size();
        put<std::uint32_t>(h, at + dir::kBucketCount, img.bucket_count);
        put<std::uint32_t>(h, at + dir::kRecords, img.records);
        put<std::uint32_t>(h, at + dir::kTombstones, img.tombstones);
        put<std::uint64_t>(h, at + dir::kValueBytes, img.value_bytes);
        put<std::uint64_t>(h, at + dir::kGarbageBytes, img.garbage_bytes);
        put<std::uint64_t>(h, at + dir::kBucketsOffset, l.buckets_offset[s]);
        put<std::uint64_t>(h, at + dir::kArenaOffset, arena_offset);
        put<std::uint64_t>(h, at + dir::kArenaBytes, img.arena.size());
        put<std::uint64_t>(h, at + dir::kChecksum, checksums[s]);
        records += img.records;
        value_bytes += img.value_bytes;
        if (!img.buckets.empty())
            plan.pieces.push_back({l.buckets_offset[s], img.buckets});
        if (!img.arena.empty())
            plan.pieces.push_back({arena_offset, img.arena});
    }
    put<std::uint64_t>(h, hdr::kRecords, records);
    put<std::uint64_t>(h, hdr::kValueBytes, value_bytes);

    std::size_t at = l.homed_offset;
    for (const auto& p : homed) {
        put<std::uint32_t>(h, at, static_cast<std::uint32_t>(p.size()));
        std::memcpy(h.data() + at + 4, p.data(), p.size());
        at += 4 + p.size();
    }
    put<std::uint64_t>(h, hdr::kChecksum, head_checksum(h.data(), h.size()));
    return plan;
}

SnapshotPlan plan_snapshot(const Table& table, const SnapshotMeta& meta)
{
    std::vector<std::uint64_t> sums(table.shard_count());
    for (std::size_t s = 0; s < sums.size(); ++s) {
        const ShardImage img = table.shard_image(s);
        sums[s] = shard_checksum(img.buckets, img.arena);
    }
    return plan_snapshot(table, meta, sums);
}

std::vector<std::uint8_t> encode_snapshot(const Table& table, const SnapshotMeta& meta)
{
    const SnapshotPlan plan = plan_snapshot(table, meta);
    std::vector<std::uint8_t> file(plan.file_bytes, 0);
    std::copy(plan.head.begin(), plan.head.end(), file.begin());
    for (const Piece& p : plan.pieces)
        std::copy(p.bytes.begin(), p.bytes.end(), file.begin() + static_cast<std::ptrdiff_t>(p.offset));
    return file;
}

namespace {

Result<bool, std::string> check_preamble(ByteSpan file)
{
    const std::uint8_t* f = file.data();
    const std::size_t have = std::min(file.size(), sizeof kMagic);
    if (have == 0 || std::memcmp(f, kMagic, have) != 0)
        return Err(err("not a snapshot file (no IDPSNAP magic)"));
    if (file.size() < kHeaderBytes)
        return Err(err("truncated: file has " + num(file.size()) + " octets, the header alone is " +
                       num(kHeaderBytes)));
    const auto endian = get<std::uint32_t>(f, hdr::kEndian);
    if (endian == __builtin_bswap32(kEndianMarker))
        return Err(err("big-endian file; this idpathd reads little-endian snapshots"));
    if (endian != kEndianMarker)
        return Err(err("bad endianness marker 0x" + [&] {
            char b[16];
            std::snprintf(b, sizeof b, "%08x", endian);
            return std::string(b);
        }()));
    const auto version = get<std::uint32_t>(f, hdr::kFormatVersion);
    if (version != kFormatVersion)
        return Err(err("format version " + num(version) + ", this idpathd reads " + num(kFormatVersion)));
    const auto header_bytes = get<std::uint32_t>(f, hdr::kHeaderBytes);
    if (header_bytes != kHeaderBytes)
        return Err(err("header size " + num(header_bytes) + ", format 1 has " + num(kHeaderBytes)));
    const auto layout = get<std::uint32_t>(f, hdr::kLayoutVersion);
    if (layout != kLayoutVersion)
        return Err(err("table layout version " + num(layout) + ", this idpathd reads " + num(kLayoutVersion) +
                       " (make a new snapshot from the source data)"));
    char hash_id[kHashIdBytes + 1] = {};
    std::memcpy(hash_id, f + hdr::kHashId, kHashIdBytes);
    if (std::string_view(hash_id) != kHashId || std::any_of(hash_id + sizeof kHashId, hash_id + kHashIdBytes,
                                                            [](char c) { return c != 0; }))
        return Err(err("checksum \"" + std::string(hash_id) + "\", this idpathd knows \"" + kHashId + "\""));
    const auto file_bytes = get<std::uint64_t>(f, hdr::kFileBytes);
    if (file.size() < file_bytes)
        return Err(err("truncated: header says " + num(file_bytes) + " octets, file has " + num(file.size())));
    if (file.size() > file_bytes)
        return Err(err(num(file.size() - file_bytes) + " octets after the end the header gives (" + num(file_bytes) +
                       ")"));
    return true;
}

/// Where the header says the directory, homed list and data are; all inside the file (checked
/// before the head checksum, which needs them).
Result<bool, std::string> check_regions(ByteSpan file, SnapshotInfo& info)
{
    const std::uint8_t* f = file.data();
    const std::uint64_t size = file.size();
    const auto bits = get<std::uint32_t>(f, hdr::kShardBits);
    if (bits > layout::kMaxShardBits)
        return Err(err("shard bits " + num(bits) + ", at most " + num(layout::kMaxShardBits)));
    const std::uint64_t shards = std::uint64_t{1} << bits;
    const auto count = get<std::uint32_t>(f, hdr::kShardCount);
    if (count != shards)
        return Err(err("shard count " + num(count) + " but shard bits " + num(bits) + " (" + num(shards) + " shards)"));
    const auto dir_offset = get<std::uint64_t>(f, hdr::kDirectoryOffset);
    const auto dir_bytes = get<std::uint64_t>(f, hdr::kDirectoryBytes);
    if (dir_offset != kHeaderBytes || dir_bytes != shards * kDirectoryEntryBytes)
        return Err(err("directory at " + num(dir_offset) + " of " + num(dir_bytes) + " octets, expected at " +
                       num(kHeaderBytes) + " of " + num(shards * kDirectoryEntryBytes)));
    const auto homed_offset = get<std::uint64_t>(f, hdr::kHomedOffset);
    const auto homed_bytes = get<std::uint64_t>(f, hdr::kHomedBytes);
    const auto data_offset = get<std::uint64_t>(f, hdr::kDataOffset);
    const auto data_bytes = get<std::uint64_t>(f, hdr::kDataBytes);
    if (homed_offset != dir_offset + dir_bytes)
        return Err(err("homed list at " + num(homed_offset) + ", expected right after the directory at " +
                       num(dir_offset + dir_bytes)));
    if (homed_offset > size || homed_bytes > size - homed_offset || data_offset < homed_offset + homed_bytes)
        return Err(err("homed list of " + num(homed_bytes) + " octets overruns the data section at " +
                       num(data_offset)));
    if (data_offset % kDataAlign != 0 || data_offset > size || data_bytes != size - data_offset)
        return Err(err("data section at " + num(data_offset) + " of " + num(data_bytes) + " octets in a file of " +
                       num(size) + " (must be " + num(kDataAlign) + "-aligned and run to the end)"));
    info.shard_bits = bits;
    info.data_offset = data_offset;
    info.data_bytes = data_bytes;
    info.file_bytes = size;
    return true;
}

Result<bool, std::string> read_homed(ByteSpan file, SnapshotInfo& info)
{
    const std::uint8_t* f = file.data();
    const auto offset = get<std::uint64_t>(f, hdr::kHomedOffset);
    const auto bytes = get<std::uint64_t>(f, hdr::kHomedBytes);
    const auto count = get<std::uint64_t>(f, hdr::kHomedCount);
    if (count > bytes / 4)
        return Err(err("homed list: " + num(count) + " prefixes cannot fit " + num(bytes) + " octets"));
    std::uint64_t at = 0;
    info.homed.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        if (bytes - at < 4)
            return Err(err("homed list: prefix " + num(i) + " runs past the list"));
        const auto len = get<std::uint32_t>(f, offset + at);
        if (len > bytes - at - 4)
            return Err(err("homed list: prefix " + num(i) + " of " + num(len) + " octets runs past the list"));
        info.homed.emplace_back(reinterpret_cast<const char*>(f + offset + at + 4), len);
        // Sorted and unique as the saver writes them: one table has one file.
        if (i > 0 && info.homed[i - 1] >= info.homed[i])
            return Err(err("homed list: prefix " + num(i) + " is out of order or repeated"));
        at += 4 + len;
    }
    if (at != bytes)
        return Err(err("homed list: " + num(bytes - at) + " octets after the last prefix"));
    if (!zero(file, offset + bytes, info.data_offset))
        return Err(err("padding before the data section is not zero"));
    return true;
}

Result<bool, std::string> read_directory(ByteSpan file, SnapshotInfo& info)
{
    const std::uint8_t* f = file.data();
    const std::uint64_t shards = std::uint64_t{1} << info.shard_bits;
    // Shards lie in order, each at the first 64-aligned octet after the one before: no gaps to
    // hide data in, no overlaps, and the data section ends with the last shard.
    std::uint64_t expect = info.data_offset;
    std::uint64_t records = 0;
    std::uint64_t value_bytes = 0;
    info.shards.resize(shards);
    for (std::uint64_t s = 0; s < shards; ++s) {
        const std::uint8_t* e = f + kHeaderBytes + s * kDirectoryEntryBytes;
        ShardEntry& d = info.shards[s];
        d.bucket_count = get<std::uint32_t>(e, dir::kBucketCount);
        d.records = get<std::uint32_t>(e, dir::kRecords);
        d.tombstones = get<std::uint32_t>(e, dir::kTombstones);
        d.value_bytes = get<std::uint64_t>(e, dir::kValueBytes);
        d.garbage_bytes = get<std::uint64_t>(e, dir::kGarbageBytes);
        d.buckets_offset = get<std::uint64_t>(e, dir::kBucketsOffset);
        d.arena_offset = get<std::uint64_t>(e, dir::kArenaOffset);
        d.arena_bytes = get<std::uint64_t>(e, dir::kArenaBytes);
        d.checksum = get<std::uint64_t>(e, dir::kChecksum);
        const std::string where = "shard " + num(s) + ": ";
        if (expect > info.file_bytes)
            return Err(err(where + "starts at " + num(expect) + ", past the end of the file (" + num(info.file_bytes) + ")"));
        if (get<std::uint32_t>(e, dir::kReserved) != 0)
            return Err(err(where + "reserved field is not zero"));
        const std::uint64_t slots = std::uint64_t{d.bucket_count} * layout::kSlotsPerBucket;
        if (d.bucket_count == 0 || std::uint64_t{d.records} + d.tombstones >= slots)
            return Err(err(where + num(d.records) + " records and " + num(d.tombstones) + " tombstones in " +
                           num(d.bucket_count) + " buckets leave no empty slot"));
        const std::uint64_t bucket_bytes = std::uint64_t{d.bucket_count} * layout::kBucketBytes;
        if (d.buckets_offset != expect || d.arena_offset != expect + bucket_bytes)
            return Err(err(where + "buckets at " + num(d.buckets_offset) + ", arena at " + num(d.arena_offset) +
                           ", expected " + num(expect) + " and " + num(expect + bucket_bytes)));
        if (bucket_bytes > info.file_bytes - expect || d.arena_bytes > info.file_bytes - d.arena_offset)
            return Err(err(where + num(bucket_bytes) + " bucket and " + num(d.arena_bytes) +
                           " arena octets at " + num(expect) + " run past the end of the file (" +
                           num(info.file_bytes) + ")"));
        if (d.arena_bytes > layout::kOffsetMask || d.value_bytes > d.arena_bytes || d.garbage_bytes > d.arena_bytes)
            return Err(err(where + num(d.value_bytes) + " value and " + num(d.garbage_bytes) +
                           " garbage octets do not fit an arena of " + num(d.arena_bytes)));
        records += d.records;
        value_bytes += d.value_bytes;
        const std::uint64_t end = d.arena_offset + d.arena_bytes;
        expect = round_up(end, kShardAlign);
        if (expect <= info.file_bytes && !zero(file, end, expect))
            return Err(err(where + "padding after the arena is not zero"));
    }
    if (expect != info.file_bytes)
        return Err(err("the last shard ends at " + num(expect) + ", the file at " + num(info.file_bytes)));
    if (records != info.records || value_bytes != info.value_bytes)
        return Err(err("shards hold " + num(records) + " records and " + num(value_bytes) +
                       " value octets, the header says " + num(info.records) + " and " + num(info.value_bytes)));
    return true;
}

} // namespace

Result<SnapshotInfo, std::string> read_snapshot_head(ByteSpan file)
{
    if (auto r = check_preamble(file); !r)
        return Err(r.error());
    SnapshotInfo info;
    if (auto r = check_regions(file, info); !r)
        return Err(r.error());
    const std::uint8_t* f = file.data();
    const std::uint64_t head_end = get<std::uint64_t>(f, hdr::kHomedOffset) + get<std::uint64_t>(f, hdr::kHomedBytes);
    info.head_checksum = get<std::uint64_t>(f, hdr::kChecksum);
    if (head_checksum(f, head_end) != info.head_checksum)
        return Err(err("header checksum mismatch (header, directory or homed list damaged)"));
    // Past the checksum, a bad field is a writer's bug rather than damage; still refused.
    if (std::any_of(f + hdr::kReserved, f + hdr::kChecksum, [](std::uint8_t c) { return c != 0; }))
        return Err(err("reserved header octets are not zero"));
    info.format_version = get<std::uint32_t>(f, hdr::kFormatVersion);
    info.layout_version = get<std::uint32_t>(f, hdr::kLayoutVersion);
    info.records = get<std::uint64_t>(f, hdr::kRecords);
    info.value_bytes = get<std::uint64_t>(f, hdr::kValueBytes);
    info.created_unix = get<std::int64_t>(f, hdr::kCreated);
    const char* src = reinterpret_cast<const char*>(f + hdr::kSource);
    info.source.assign(src, std::find(src, src + kSourceBytes, '\0'));
    if (!zero(file, hdr::kSource + info.source.size(), hdr::kSource + kSourceBytes))
        return Err(err("source field: octets after its end are not zero"));
    if (auto r = read_homed(file, info); !r)
        return Err(r.error());
    if (auto r = read_directory(file, info); !r)
        return Err(r.error());
    return info;
}

std::unique_ptr<TableAssembler> make_assembler(const SnapshotInfo& info)
{
    std::vector<ShardImage> shapes(info.shards.size());
    std::vector<std::uint64_t> arena_bytes(info.shards.size());
    for (std::size_t s = 0; s < shapes.size(); ++s) {
        const ShardEntry& d = info.shards[s];
        shapes[s].bucket_count = d.bucket_count;
        shapes[s].records = d.records;
        shapes[s].tombstones = d.tombstones;
        shapes[s].value_bytes = d.value_bytes;
        shapes[s].garbage_bytes = d.garbage_bytes;
        arena_bytes[s] = d.arena_bytes;
    }
    auto a = std::make_unique<TableAssembler>(info.shard_bits, shapes, arena_bytes);
    for (const auto& p : info.homed)
        a->home(p);
    return a;
}

namespace {

/// Copies `from` into `to` chunk by chunk, hashing each chunk while it is in cache.
void copy_hashing(ByteSpan from, std::span<std::uint8_t> to, XXH3_state_t& st) noexcept
{
    for (std::size_t at = 0; at < from.size(); at += kChunk) {
        const std::size_t n = std::min(kChunk, from.size() - at);
        std::memcpy(to.data() + at, from.data() + at, n);
        XXH3_64bits_update(&st, to.data() + at, n);
    }
}

} // namespace

Result<bool, std::string> load_shard(ByteSpan file, const SnapshotInfo& info, std::size_t s, TableAssembler& assembler)
{
    const ShardEntry& d = info.shards[s];
    const std::span<std::uint8_t> buckets = assembler.buckets(s);
    const std::span<std::uint8_t> arena = assembler.arena(s);
    const std::uint64_t bucket_bytes = std::uint64_t{d.bucket_count} * layout::kBucketBytes;
    if (buckets.size() != bucket_bytes || arena.size() != d.arena_bytes)
        return Err(err("shard " + num(s) + ": the assembler has " + num(buckets.size()) + " bucket and " +
                       num(arena.size()) + " arena octets for " + num(bucket_bytes) + " and " + num(d.arena_bytes)));
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    copy_hashing(file.subspan(d.buckets_offset, bucket_bytes), buckets, st);
    copy_hashing(file.subspan(d.arena_offset, d.arena_bytes), arena, st);
    if (XXH3_64bits_digest(&st) != d.checksum)
        return Err(err("shard " + num(s) + ": checksum mismatch"));
    if (auto r = assembler.check(s); !r)
        return Err(err(r.error()));
    return true;
}

Result<std::shared_ptr<Table>, std::string> load_snapshot(ByteSpan file)
{
    auto head = read_snapshot_head(file);
    if (!head)
        return Err(head.error());
    const SnapshotInfo& info = *head;
    try {
        const auto assembler = make_assembler(info);
        for (std::size_t s = 0; s < info.shards.size(); ++s)
            if (auto r = load_shard(file, info, s, *assembler); !r)
                return Err(r.error());
        return std::move(*assembler).finish();
    } catch (const std::bad_alloc&) {
        return Err(err("no memory for a table of " + num(info.data_bytes) + " octets"));
    }
}

} // namespace idpath::table::snapshot
