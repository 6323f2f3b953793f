// The lookup side of the table and what it reports (table.hpp); updates are table_writer.cpp,
// builds table_builder.cpp.
#include "dataplane/table/table.hpp"

#include <algorithm>
#include <array>

#include "dataplane/table/layout.hpp"
#include "dataplane/table/shard.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace idpath::table {

using namespace layout;

std::uint64_t key_hash(std::string_view key) noexcept
{
    return XXH3_64bits(key.data(), key.size());
}

Table::Table() : homed_owner_(std::make_shared<const HomedSet>())
{
    // One empty shard, so that lookups never test for "no shards".
    shards_ = std::make_unique<std::atomic<const Shard*>[]>(1);
    owners_.resize(1);
    auto shard = std::make_shared<Shard>();
    shard->bucket_count = 1;
    shard->bucket_block = std::make_shared<Buffer>(kBucketBytes);
    shard->arena_block = std::make_shared<Buffer>(kFirstRecord);
    shard->buckets = reinterpret_cast<std::uint64_t*>(shard->bucket_block->data());
    shard->arena = shard->arena_block->data();
    shard->arena_capacity = kFirstRecord;
    install(0, std::move(shard), nullptr);
    homed_.store(homed_owner_.get(), std::memory_order_release);
}

Table::~Table() = default;

const Table::Shard& Table::shard_of(std::uint64_t hash) const noexcept
{
    return *shards_[shard_index(hash, shard_bits_)].load(std::memory_order_acquire);
}

std::optional<RecordView> Table::probe(const Shard& shard, std::string_view key, std::uint64_t hash,
                                       std::uint32_t bucket, unsigned slot) noexcept
{
    const std::uint16_t tag = tag_of(hash);
    for (;;) {
        const std::uint64_t* b = shard.buckets + std::size_t{bucket} * kSlotsPerBucket;
        for (; slot < kSlotsPerBucket; ++slot) {
            const std::uint64_t s = load_slot(b + slot);
            if (s == 0)
                return std::nullopt; // a key is never stored past an empty slot of its probe
            if (static_cast<std::uint16_t>(s >> 48) != tag)
                continue; // another key's, or a tombstone (tag 0)
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
    const std::uint64_t h = key_hash(key);
    const Shard& s = shard_of(h);
    return probe(s, key, h, bucket_of(h, s.bucket_count), 0);
}

namespace {

/// Prefetches the lines of a record's values beyond those the key compare brought in, up to a
/// bound so that one huge record does not flush the burst's others.
inline void prefetch_values(const RecordView& r) noexcept
{
    constexpr std::size_t kMaxLines = 16;
    const auto* p = reinterpret_cast<const std::uint8_t*>(r.values.data());
    const std::uint8_t* end = r.encoded.data() + std::min(r.encoded.size(), kMaxLines * 64);
    for (; p < end; p += 64)
        __builtin_prefetch(p);
    __builtin_prefetch(end - 1);
}

} // namespace

void Table::find_burst(std::span<const std::string_view> keys,
                       std::span<std::optional<RecordView>> out) const noexcept
{
    // Per key of a group: 0-7 the slot of the first tag match, or one of these.
    constexpr std::uint8_t kOverflow = 8; // bucket full without a match: probe on
    constexpr std::uint8_t kMiss = 9;
    std::array<std::uint64_t, kBurst> hash;
    std::array<const Shard*, kBurst> shard;
    std::array<std::uint32_t, kBurst> bucket;
    std::array<std::uint64_t, kBurst> slot; // the matching slot as loaded
    std::array<std::uint8_t, kBurst> at;

    for (std::size_t base = 0; base < keys.size(); base += kBurst) {
        const std::size_t n = std::min(kBurst, keys.size() - base);
        const std::string_view* k = keys.data() + base;
        for (std::size_t i = 0; i < n; ++i) {
            hash[i] = key_hash(k[i]);
            shard[i] = &shard_of(hash[i]);
            bucket[i] = bucket_of(hash[i], shard[i]->bucket_count);
            __builtin_prefetch(shard[i]->buckets + std::size_t{bucket[i]} * kSlotsPerBucket);
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint64_t* b = shard[i]->buckets + std::size_t{bucket[i]} * kSlotsPerBucket;
            const std::uint16_t tag = tag_of(hash[i]);
            at[i] = kOverflow;
            for (std::uint8_t j = 0; j < kSlotsPerBucket; ++j) {
                const std::uint64_t s = load_slot(b + j);
                if (s == 0) {
                    at[i] = kMiss;
                    break;
                }
                if (static_cast<std::uint16_t>(s >> 48) == tag) {
                    at[i] = j;
                    slot[i] = s;
                    // The header and the key: one line, or two when the record straddles.
                    const std::uint8_t* rec = shard[i]->arena + (s & kOffsetMask);
                    __builtin_prefetch(rec);
                    __builtin_prefetch(rec + kHeaderSize + k[i].size());
                    break;
                }
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            std::optional<RecordView>& o = out[base + i];
            if (at[i] < kSlotsPerBucket) {
                const std::uint8_t* rec = shard[i]->arena + (slot[i] & kOffsetMask);
                o = key_matches(rec, k[i]) ? view_of(rec) : probe(*shard[i], k[i], hash[i], bucket[i], at[i] + 1u);
            } else if (at[i] == kOverflow) {
                o = probe(*shard[i], k[i], hash[i], bucket[i], kSlotsPerBucket);
            } else {
                o = std::nullopt;
            }
            // The caller copies the values next: start fetching the rest of the record now,
            // so the misses of the group's records overlap as their keys' did.
            if (o)
                prefetch_values(*o);
        }
    }
}

bool Table::homes(std::string_view prefix) const noexcept
{
    const HomedSet& h = *homed_.load(std::memory_order_acquire);
    return h.find(prefix) != h.end();
}

std::size_t Table::homed_count() const noexcept
{
    return homed_.load(std::memory_order_acquire)->size();
}

std::vector<std::string> Table::homed_prefixes() const
{
    const HomedSet& h = *homed_.load(std::memory_order_acquire);
    std::vector<std::string> v(h.begin(), h.end());
    std::sort(v.begin(), v.end());
    return v;
}

ShardImage Table::shard_image(std::size_t i) const noexcept
{
    const Shard& s = *owners_[i];
    ShardImage img;
    img.bucket_count = s.bucket_count;
    img.records = s.records;
    img.tombstones = s.tombstones;
    img.value_bytes = s.value_bytes;
    img.garbage_bytes = s.garbage_bytes;
    img.buckets = {reinterpret_cast<const std::uint8_t*>(s.buckets), std::size_t{s.bucket_count} * kBucketBytes};
    img.arena = {s.arena, s.arena_used};
    return img;
}

void Table::install(std::size_t s, std::shared_ptr<Shard> shard, Retired* retired)
{
    const Shard* next = shard.get();
    if (owners_[s] && retired)
        retired->push_back(std::move(owners_[s]));
    owners_[s] = std::move(shard);
    shards_[s].store(next, std::memory_order_release);
    recount_memory();
}

void Table::recount_memory() noexcept
{
    // The blocks the shards now use, each once (a build's shards share two). What was retired
    // is freed by the caller shortly and no longer counts.
    thread_local std::vector<const Buffer*> blocks; // a writer's; no allocation per rebuild
    blocks.clear();
    for (const auto& o : owners_)
        if (o)
            for (const Buffer* b : {o->bucket_block.get(), o->arena_block.get()})
                if (b)
                    blocks.push_back(b);
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
    std::size_t bytes = 0;
    for (const Buffer* b : blocks)
        bytes += b->size();
    memory_bytes_.store(bytes, std::memory_order_relaxed);
}

void Table::set_homed(std::unique_ptr<HomedSet> next, Retired& retired)
{
    std::shared_ptr<const HomedSet> owner(std::move(next));
    homed_.store(owner.get(), std::memory_order_release);
    retired.push_back(std::move(homed_owner_));
    homed_owner_ = std::move(owner);
}

} // namespace idpath::table
