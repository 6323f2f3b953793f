#include "dataplane/table/table.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/wire/constants.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace idpath::table {
namespace {

// Slot: tag in bits 63..48, byte offset of the record in its shard's arena in bits 47..0. A zero
// slot is empty: no record sits at offset 0. The hash's bits are split so shard, tag and bucket
// are independent: shard = bits 63..(64 - shard bits) (at most 16), tag = bits 47..32,
// bucket = bits 31..0 scaled to the bucket count.
constexpr unsigned kSlotsPerBucket = 8; // one 64-octet line
constexpr std::size_t kBucketBytes = kSlotsPerBucket * sizeof(std::uint64_t);
constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << 48) - 1;
constexpr std::size_t kFirstRecord = 4;
// Records per shard the shard count aims at; more shards keep a later per-shard rebuild small.
constexpr std::size_t kShardRecords = std::size_t{1} << 16;
constexpr unsigned kMaxShardBits = 16;

// Record header, 8 octets, then the key, padding to 4, the ValueEntry array, the encoded values,
// padding to 4 (every field is 4-aligned, read by memcpy or as 4-aligned ValueEntry).
constexpr std::size_t kHeaderSize = 8;
constexpr std::uint16_t kAllPublicFlag = 0x8000;
constexpr std::uint16_t kCountMask = 0x0fff; // kMaxValues = 2048 fits
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

std::size_t entries_at(std::size_t key_length) noexcept { return kHeaderSize + round_up(key_length, 4); }

std::size_t record_size(const Header& h) noexcept
{
    return round_up(entries_at(h.key_length) + (h.count_flags & kCountMask) * sizeof(ValueEntry) + h.encoded_length, 4);
}

Header header_at(const std::uint8_t* rec) noexcept
{
    Header h;
    std::memcpy(&h, rec, sizeof h);
    return h;
}

bool key_matches(const std::uint8_t* rec, std::string_view key) noexcept
{
    const Header h = header_at(rec);
    return h.key_length == key.size() && std::memcmp(rec + kHeaderSize, key.data(), key.size()) == 0;
}

RecordView view_of(const std::uint8_t* rec) noexcept
{
    const Header h = header_at(rec);
    const std::size_t count = h.count_flags & kCountMask;
    const std::uint8_t* entries = rec + entries_at(h.key_length);
    // The builder memcpy'd ValueEntry objects here, 4-aligned (so are records).
    return RecordView{{reinterpret_cast<const ValueEntry*>(entries), count},
                      {entries + count * sizeof(ValueEntry), h.encoded_length},
                      (h.count_flags & kAllPublicFlag) != 0};
}

std::uint16_t tag_of(std::uint64_t hash) noexcept { return static_cast<std::uint16_t>(hash >> 32); }

std::uint32_t bucket_of(std::uint64_t hash, std::uint32_t bucket_count) noexcept
{
    // Lemire's multiply-shift range reduction: any bucket count, no division.
    return static_cast<std::uint32_t>((std::uint64_t{static_cast<std::uint32_t>(hash)} * bucket_count) >> 32);
}

const std::uint64_t* bucket_at(const std::uint64_t* buckets, std::uint32_t bucket) noexcept
{
    return buckets + std::size_t{bucket} * kSlotsPerBucket;
}

/// Buckets for `records`: load at most 0.8, and always one empty slot so a probe ends.
std::uint32_t bucket_count_for(std::size_t records) noexcept
{
    std::size_t n = (records * 5 + 31) / 32;
    if (n * kSlotsPerBucket <= records)
        ++n;
    return static_cast<std::uint32_t>(std::max<std::size_t>(n, 1));
}

} // namespace

std::uint64_t key_hash(std::string_view key) noexcept
{
    return XXH3_64bits(key.data(), key.size());
}

std::optional<RecordView> Table::probe(const Shard& shard, std::string_view key, std::uint64_t hash,
                                       std::uint32_t bucket, unsigned slot) noexcept
{
    const std::uint16_t tag = tag_of(hash);
    for (;;) {
        const std::uint64_t* b = bucket_at(shard.buckets, bucket);
        for (; slot < kSlotsPerBucket; ++slot) {
            const std::uint64_t s = b[slot];
            if (s == 0)
                return std::nullopt; // buckets fill left to right, and nothing is ever removed
            if (static_cast<std::uint16_t>(s >> 48) != tag)
                continue;
            const std::uint8_t* rec = shard.arena + (s & kOffsetMask);
            if (key_matches(rec, key))
                return view_of(rec);
        }
        slot = 0;
        bucket = bucket + 1 == shard.bucket_count ? 0 : bucket + 1;
    }
}

std::optional<RecordView> Table::find(std::string_view key) const noexcept
{
    if (shards_.empty())
        return std::nullopt;
    const std::uint64_t h = key_hash(key);
    const Shard& s = shard_of(h);
    return probe(s, key, h, bucket_of(h, s.bucket_count), 0);
}

void Table::find_burst(std::span<const std::string_view> keys,
                       std::span<std::optional<RecordView>> out) const noexcept
{
    if (shards_.empty()) {
        std::fill_n(out.begin(), keys.size(), std::nullopt);
        return;
    }
    // Per key of a group: 0-7 the slot of the first tag match, or one of these.
    constexpr std::uint8_t kOverflow = 8; // bucket full without a match: probe on
    constexpr std::uint8_t kMiss = 9;
    std::array<std::uint64_t, kBurst> hash;
    std::array<const Shard*, kBurst> shard;
    std::array<std::uint32_t, kBurst> bucket;
    std::array<std::uint8_t, kBurst> at;

    for (std::size_t base = 0; base < keys.size(); base += kBurst) {
        const std::size_t n = std::min(kBurst, keys.size() - base);
        const std::string_view* k = keys.data() + base;
        for (std::size_t i = 0; i < n; ++i) {
            hash[i] = key_hash(k[i]);
            shard[i] = &shard_of(hash[i]);
            bucket[i] = bucket_of(hash[i], shard[i]->bucket_count);
            __builtin_prefetch(bucket_at(shard[i]->buckets, bucket[i]));
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint64_t* b = bucket_at(shard[i]->buckets, bucket[i]);
            const std::uint16_t tag = tag_of(hash[i]);
            at[i] = kOverflow;
            for (std::uint8_t j = 0; j < kSlotsPerBucket; ++j) {
                if (b[j] == 0) {
                    at[i] = kMiss;
                    break;
                }
                if (static_cast<std::uint16_t>(b[j] >> 48) == tag) {
                    at[i] = j;
                    // The header and the key: one line, or two when the record straddles.
                    const std::uint8_t* rec = shard[i]->arena + (b[j] & kOffsetMask);
                    __builtin_prefetch(rec);
                    __builtin_prefetch(rec + kHeaderSize + k[i].size());
                    break;
                }
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            std::optional<RecordView>& o = out[base + i];
            if (at[i] < kSlotsPerBucket) {
                const std::uint64_t s = bucket_at(shard[i]->buckets, bucket[i])[at[i]];
                const std::uint8_t* rec = shard[i]->arena + (s & kOffsetMask);
                o = key_matches(rec, k[i]) ? view_of(rec) : probe(*shard[i], k[i], hash[i], bucket[i], at[i] + 1u);
            } else if (at[i] == kOverflow) {
                o = probe(*shard[i], k[i], hash[i], bucket[i], kSlotsPerBucket);
            } else {
                o = std::nullopt;
            }
        }
    }
}

bool Table::homes(std::string_view prefix) const noexcept
{
    return homed_.find(prefix) != homed_.end();
}

std::vector<std::string> Table::homed_prefixes() const
{
    std::vector<std::string> v(homed_.begin(), homed_.end());
    std::sort(v.begin(), v.end());
    return v;
}

std::size_t Table::memory_bytes() const noexcept
{
    std::size_t n = 0;
    for (const auto& b : blocks_)
        n += b.size();
    return n;
}

/// Records laid out as in a shard arena, back to back in chunks, in the order added; plus an
/// open-addressing index over them for duplicate checks.
struct TableBuilder::Staging {
    static constexpr std::size_t kChunkBytes = std::size_t{4} << 20;

    struct Staged {
        std::uint64_t hash;
        std::uint32_t chunk;
        std::uint32_t offset;
    };

    std::vector<Buffer> chunks; // kChunkBytes or more: mmap()ed, so freeing one returns it
    std::size_t chunk_capacity = 0; // of the last chunk
    std::size_t chunk_used = 0;
    std::vector<Staged> records;
    std::vector<std::uint32_t> index; // record number + 1, 0 = empty; power-of-two size
    std::unordered_set<std::string, KeyHash, std::equal_to<>> homed;
    std::size_t value_bytes = 0;

    const std::uint8_t* record(const Staged& r) const noexcept { return chunks[r.chunk].data() + r.offset; }

    bool contains(std::string_view key, std::uint64_t hash) const noexcept
    {
        if (index.empty())
            return false;
        const std::size_t mask = index.size() - 1;
        for (std::size_t i = hash & mask; index[i]; i = (i + 1) & mask) {
            const Staged& r = records[index[i] - 1];
            if (r.hash == hash && key_matches(record(r), key))
                return true;
        }
        return false;
    }

    void index_last()
    {
        if ((records.size() + 1) * 2 > index.size()) {
            index.assign(std::max<std::size_t>(index.size() * 2, 1024), 0);
            for (std::uint32_t n = 0; n + 1 < records.size(); ++n)
                place(n);
        }
        place(static_cast<std::uint32_t>(records.size() - 1));
    }

    void place(std::uint32_t n) noexcept
    {
        const std::size_t mask = index.size() - 1;
        std::size_t i = records[n].hash & mask;
        while (index[i])
            i = (i + 1) & mask;
        index[i] = n + 1;
    }

    /// Room for `size` octets (a multiple of 4) at the end of the last chunk, a new one if needed.
    std::uint8_t* allocate(std::size_t size, Staged& where)
    {
        if (chunks.empty() || chunk_capacity - chunk_used < size) {
            chunk_capacity = std::max(size, kChunkBytes);
            chunks.emplace_back(chunk_capacity);
            chunk_used = 0;
        }
        where.chunk = static_cast<std::uint32_t>(chunks.size() - 1);
        where.offset = static_cast<std::uint32_t>(chunk_used);
        chunk_used += size;
        return chunks.back().data() + where.offset;
    }
};

TableBuilder::TableBuilder() : staging_(std::make_unique<Staging>()) {}
TableBuilder::~TableBuilder() = default;
TableBuilder::TableBuilder(TableBuilder&&) noexcept = default;
TableBuilder& TableBuilder::operator=(TableBuilder&&) noexcept = default;

std::size_t TableBuilder::size() const noexcept
{
    return staging_->records.size();
}

bool TableBuilder::add(std::string_view handle, std::vector<wire::HandleValue> values)
{
    if (values.size() > wire::kMaxValues || handle.size() > wire::kMaxHandleLength)
        return false;
    const std::string key = normalize(handle);
    const std::uint64_t hash = key_hash(key);
    if (staging_->contains(key, hash))
        return false;

    // Index order makes answers deterministic and lets the resolver binary-search index filters.
    std::sort(values.begin(), values.end(),
              [](const wire::HandleValue& a, const wire::HandleValue& b) { return a.index < b.index; });
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i && values[i].index == values[i - 1].index)
            return false;
        total += wire::encoded_size(values[i]);
    }
    if (total > UINT32_MAX)
        return false;

    const std::size_t entries = entries_at(key.size());
    const std::size_t encoded = entries + values.size() * sizeof(ValueEntry);
    const std::size_t size = round_up(encoded + total, 4);
    Staging::Staged where{hash, 0, 0};
    std::uint8_t* rec = staging_->allocate(size, where);
    std::memset(rec, 0, size); // padding too: the same adds give the same octets

    ByteWriter w({rec + encoded, static_cast<std::size_t>(total)});
    bool all_public = true;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const auto& v = values[i];
        ValueEntry e;
        e.offset = static_cast<std::uint32_t>(w.size());
        wire::encode_value(w, v);
        e.length = static_cast<std::uint32_t>(w.size()) - e.offset;
        all_public = all_public && (v.permissions & wire::perm::kPublicRead);
        std::memcpy(rec + entries + i * sizeof(ValueEntry), &e, sizeof e);
    }
    if (!w.ok() || w.size() != total) {
        staging_->chunk_used -= size; // the last allocation, undone
        return false;
    }
    const Header h{static_cast<std::uint32_t>(total), static_cast<std::uint16_t>(key.size()),
                   static_cast<std::uint16_t>(values.size() | (all_public ? kAllPublicFlag : 0))};
    std::memcpy(rec, &h, sizeof h);
    std::memcpy(rec + kHeaderSize, key.data(), key.size());

    staging_->records.push_back(where);
    staging_->index_last();
    staging_->value_bytes += total;
    return true;
}

void TableBuilder::home(std::string_view prefix)
{
    staging_->homed.insert(normalize(prefix));
}

bool TableBuilder::contains(std::string_view handle) const
{
    const std::string key = normalize(handle);
    return staging_->contains(key, key_hash(key));
}

std::shared_ptr<const Table> TableBuilder::build() &&
{
    Staging st = std::move(*staging_);
    staging_ = std::make_unique<Staging>();
    std::vector<std::uint32_t>().swap(st.index);

    auto table = std::make_shared<Table>();
    const std::size_t n = st.records.size();
    const std::size_t want = std::bit_ceil(std::max<std::size_t>((n + kShardRecords - 1) / kShardRecords, 1));
    table->shard_bits_ = std::min<unsigned>(static_cast<unsigned>(std::countr_zero(want)), kMaxShardBits);
    table->shards_.resize(std::size_t{1} << table->shard_bits_);
    auto shard_index = [&](std::uint64_t hash) { // as Table::shard_of()
        return static_cast<std::size_t>((hash >> 48) >> (16 - table->shard_bits_));
    };

    // Size every shard, then copy the records in, freeing each staging chunk once copied.
    std::vector<std::size_t> records(table->shards_.size(), 0);
    std::vector<std::size_t> arena_bytes(table->shards_.size(), kFirstRecord);
    for (const auto& r : st.records) {
        const std::size_t s = shard_index(r.hash);
        ++records[s];
        arena_bytes[s] += record_size(header_at(st.record(r)));
    }
    // Shard s's buckets at bucket_base[s] x 64 in one block, its arena at arena_base[s] in another.
    std::vector<std::size_t> bucket_base(table->shards_.size() + 1, 0);
    std::vector<std::size_t> arena_base(table->shards_.size(), 0);
    std::vector<std::size_t> cursor(table->shards_.size(), kFirstRecord);
    for (std::size_t s = 0; s < table->shards_.size(); ++s) {
        table->shards_[s].bucket_count = bucket_count_for(records[s]);
        bucket_base[s + 1] = bucket_base[s] + table->shards_[s].bucket_count;
        arena_base[s] = s ? arena_base[s - 1] + arena_bytes[s - 1] : 0;
    }
    table->blocks_.reserve(2); // the references below stay valid
    Buffer& buckets = table->blocks_.emplace_back(bucket_base.back() * kBucketBytes);
    Buffer& arenas = table->blocks_.emplace_back(arena_base.back() + arena_bytes.back());
    auto* all_slots = reinterpret_cast<std::uint64_t*>(buckets.data());
    for (std::size_t s = 0; s < table->shards_.size(); ++s) {
        table->shards_[s].buckets = all_slots + bucket_base[s] * kSlotsPerBucket;
        table->shards_[s].arena = arenas.data() + arena_base[s];
    }

    std::uint32_t chunk = 0;
    for (const auto& r : st.records) {
        while (chunk < r.chunk)
            st.chunks[chunk++] = Buffer();
        const std::uint8_t* src = st.record(r);
        const std::size_t size = record_size(header_at(src));
        const std::size_t s = shard_index(r.hash);
        const Table::Shard& shard = table->shards_[s];
        std::memcpy(arenas.data() + arena_base[s] + cursor[s], src, size);

        std::uint64_t* slots = all_slots + bucket_base[s] * kSlotsPerBucket;
        const std::size_t end = std::size_t{shard.bucket_count} * kSlotsPerBucket;
        std::size_t i = std::size_t{bucket_of(r.hash, shard.bucket_count)} * kSlotsPerBucket;
        while (slots[i])
            i = i + 1 == end ? 0 : i + 1;
        slots[i] = (std::uint64_t{tag_of(r.hash)} << 48) | cursor[s];
        cursor[s] += size;
    }
    table->size_ = n;
    table->value_bytes_ = st.value_bytes;
    table->homed_ = std::move(st.homed);
    return table;
}

} // namespace idpath::table
