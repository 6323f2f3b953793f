#pragma once
/// The table's in-memory layout, shared by the lookup side (table.cpp), the builder, the writer
/// (updates) and the snapshot format, which stores shards exactly as laid out here. Internal to
/// dataplane/table: nothing outside it includes this header.
///
/// Slot: tag in bits 63..48, byte offset of the record in its shard's arena in bits 47..0.
///   - 0 is an empty slot: a probe ends there. Nothing is at arena offset 0.
///   - kTombstone (tag 0, offset 1) is a deleted record: a probe passes over it. Real tags have
///     their top bit set, so no tag ever matches a tombstone.
/// The hash's bits are split so shard, tag and bucket are independent: shard = bits
/// 63..(64 - shard bits) (at most 16), tag = bits 47..32 (top bit forced), bucket = bits 31..0
/// scaled to the bucket count.
///
/// Record: an 8-octet header (encoded length, key length, value count | all_public flag), the
/// key, padding to 4, the ValueEntry array, the encoded values, padding to 4. Every field is
/// 4-aligned and read by memcpy or as a 4-aligned ValueEntry.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "dataplane/table/table.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::table::layout {

inline constexpr unsigned kSlotsPerBucket = 8; // one 64-octet line
inline constexpr std::size_t kBucketBytes = kSlotsPerBucket * sizeof(std::uint64_t);
inline constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << 48) - 1;
inline constexpr std::uint64_t kTombstone = 1;
inline constexpr std::uint16_t kTagBit = 0x8000;
/// Arena offset of the first record: 0 means "empty" and 1 "deleted" in a slot.
inline constexpr std::size_t kFirstRecord = 4;
/// Records per shard the shard count aims at; small shards keep a shard rebuild short.
inline constexpr std::size_t kShardRecords = std::size_t{1} << 16;
inline constexpr unsigned kMaxShardBits = 16;

inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::uint16_t kAllPublicFlag = 0x8000;
inline constexpr std::uint16_t kCountMask = 0x0fff; // kMaxValues = 2048 fits
static_assert(wire::kMaxValues <= kCountMask);
static_assert(wire::kMaxHandleLength <= 0xffff);
static_assert(sizeof(ValueEntry) == 8 && alignof(ValueEntry) == 4);

struct Header {
    std::uint32_t encoded_length;
    std::uint16_t key_length;
    std::uint16_t count_flags;
};
static_assert(sizeof(Header) == kHeaderSize);

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) & ~(to - 1); }

inline std::size_t entries_at(std::size_t key_length) noexcept { return kHeaderSize + round_up(key_length, 4); }

inline std::size_t record_size(const Header& h) noexcept
{
    return round_up(entries_at(h.key_length) + (h.count_flags & kCountMask) * sizeof(ValueEntry) + h.encoded_length, 4);
}

inline Header header_at(const std::uint8_t* rec) noexcept
{
    Header h;
    std::memcpy(&h, rec, sizeof h);
    return h;
}

inline std::string_view key_at(const std::uint8_t* rec) noexcept
{
    return {reinterpret_cast<const char*>(rec + kHeaderSize), header_at(rec).key_length};
}

inline bool key_matches(const std::uint8_t* rec, std::string_view key) noexcept
{
    const Header h = header_at(rec);
    return h.key_length == key.size() && std::memcmp(rec + kHeaderSize, key.data(), key.size()) == 0;
}

inline RecordView view_of(const std::uint8_t* rec) noexcept
{
    const Header h = header_at(rec);
    const std::size_t count = h.count_flags & kCountMask;
    const std::uint8_t* entries = rec + entries_at(h.key_length);
    // ValueEntry objects were memcpy'd here, 4-aligned (so are records).
    return RecordView{{reinterpret_cast<const ValueEntry*>(entries), count},
                      {entries + count * sizeof(ValueEntry), h.encoded_length},
                      (h.count_flags & kAllPublicFlag) != 0};
}

inline std::uint16_t tag_of(std::uint64_t hash) noexcept
{
    return static_cast<std::uint16_t>(hash >> 32) | kTagBit;
}

inline std::uint64_t slot_for(std::uint64_t hash, std::size_t offset) noexcept
{
    return (std::uint64_t{tag_of(hash)} << 48) | offset;
}

inline bool is_record(std::uint64_t slot) noexcept { return slot > kTombstone; }

inline std::uint32_t bucket_of(std::uint64_t hash, std::uint32_t bucket_count) noexcept
{
    // Lemire's multiply-shift range reduction: any bucket count, no division.
    return static_cast<std::uint32_t>((std::uint64_t{static_cast<std::uint32_t>(hash)} * bucket_count) >> 32);
}

/// Buckets for `records`: load at most 0.8, and always one empty slot so a probe ends.
inline std::uint32_t bucket_count_for(std::size_t records) noexcept
{
    std::size_t n = (records * 5 + 31) / 32;
    if (n * kSlotsPerBucket <= records)
        ++n;
    return static_cast<std::uint32_t>(std::max<std::size_t>(n, 1));
}

/// Readers load slots with acquire: a slot the writer stores (release) after laying out a record
/// shows the whole record. On x86 and arm64 this is a plain load.
inline std::uint64_t load_slot(const std::uint64_t* slot) noexcept { return __atomic_load_n(slot, __ATOMIC_ACQUIRE); }
inline void store_slot(std::uint64_t* slot, std::uint64_t v) noexcept { __atomic_store_n(slot, v, __ATOMIC_RELEASE); }

/// The shard index of a hash for a table of 2^bits shards.
inline std::size_t shard_index(std::uint64_t hash, unsigned bits) noexcept
{
    // (h >> 48) >> 16 is 0 when there is one shard.
    return static_cast<std::size_t>((hash >> 48) >> (16 - bits));
}

} // namespace idpath::table::layout
