// The table's writer: records appended and switched in by one atomic slot store, shards rebuilt
// and switched in by one atomic pointer store (table.hpp, "Generations").
#include <algorithm>
#include <cstring>

#include "dataplane/table/layout.hpp"
#include "dataplane/table/shard.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::table {

using namespace layout;

namespace {

constexpr std::size_t kNone = ~std::size_t{0};

/// Slots a shard may use (records and tombstones) before it is rebuilt: 0.9, so probes stay
/// short and there is always an empty slot to end one.
bool crowded(std::size_t used, std::size_t slots) noexcept { return used * 10 > slots * 9; }

struct Probe {
    std::size_t found = kNone; // the key's slot
    std::size_t free = kNone;  // the first tombstone or empty slot on the way
};

Probe probe_for_write(const Table::Shard& sh, std::string_view key, std::uint64_t hash) noexcept
{
    Probe p;
    const std::uint16_t tag = tag_of(hash);
    const std::size_t end = sh.slot_count();
    for (std::size_t i = std::size_t{bucket_of(hash, sh.bucket_count)} * kSlotsPerBucket;; i = i + 1 == end ? 0 : i + 1) {
        const std::uint64_t v = sh.buckets[i];
        if (v == 0) {
            if (p.free == kNone)
                p.free = i;
            return p;
        }
        if (v == kTombstone) {
            if (p.free == kNone)
                p.free = i;
        } else if (static_cast<std::uint16_t>(v >> 48) == tag && key_matches(sh.arena + (v & kOffsetMask), key)) {
            p.found = i;
            return p;
        }
    }
}

} // namespace

void Table::upsert(const EncodedRecord& rec, Retired& retired)
{
    const std::size_t s = shard_index(rec.hash, shard_bits_);
    const std::string_view key = rec.key();
    const std::size_t size = rec.bytes.size();
    for (;;) {
        Shard& sh = *owners_[s];
        const Probe p = probe_for_write(sh, key, rec.hash);
        const bool takes_empty = p.found == kNone && sh.buckets[p.free] == 0;
        if (sh.arena_capacity - sh.arena_used < size ||
            (takes_empty && crowded(sh.records + sh.tombstones + 1, sh.slot_count()))) {
            rebuild(s, 1, size, retired);
            continue;
        }
        // Lay the record out where no reader looks yet, then switch the slot to it.
        const std::size_t at = sh.arena_used;
        std::memcpy(sh.arena + at, rec.bytes.data(), size);
        sh.arena_used += size;
        sh.value_bytes += rec.value_bytes;
        value_bytes_.fetch_add(rec.value_bytes, std::memory_order_relaxed);
        if (p.found != kNone) {
            const Header old = header_at(sh.arena + (sh.buckets[p.found] & kOffsetMask));
            store_slot(sh.buckets + p.found, slot_for(rec.hash, at));
            sh.garbage_bytes += record_size(old);
            sh.value_bytes -= old.encoded_length;
            value_bytes_.fetch_sub(old.encoded_length, std::memory_order_relaxed);
        } else {
            if (sh.buckets[p.free] == kTombstone)
                --sh.tombstones;
            store_slot(sh.buckets + p.free, slot_for(rec.hash, at));
            ++sh.records;
            size_.fetch_add(1, std::memory_order_relaxed);
        }
        return;
    }
}

bool Table::erase(std::string_view key, Retired&)
{
    const std::uint64_t hash = key_hash(key);
    Shard& sh = *owners_[shard_index(hash, shard_bits_)];
    const Probe p = probe_for_write(sh, key, hash);
    if (p.found == kNone)
        return false;
    const Header old = header_at(sh.arena + (sh.buckets[p.found] & kOffsetMask));
    // A tombstone, not an empty slot: keys stored past this one must stay reachable.
    store_slot(sh.buckets + p.found, kTombstone);
    --sh.records;
    ++sh.tombstones;
    sh.garbage_bytes += record_size(old);
    sh.value_bytes -= old.encoded_length;
    size_.fetch_sub(1, std::memory_order_relaxed);
    value_bytes_.fetch_sub(old.encoded_length, std::memory_order_relaxed);
    return true;
}

void Table::rebuild(std::size_t s, std::size_t extra_records, std::size_t extra_bytes, Retired& retired)
{
    const Shard& old = *owners_[s];
    const std::size_t live_bytes = old.arena_used - kFirstRecord - old.garbage_bytes;
    const std::size_t want = old.records + extra_records;
    // Room to grow before the next rebuild: a quarter more records, an eighth more octets.
    auto next = std::make_shared<Shard>();
    next->bucket_count = bucket_count_for(want + want / 4);
    next->arena_capacity =
        round_up(kFirstRecord + live_bytes + extra_bytes + std::max<std::size_t>(std::size_t{64} << 10, live_bytes / 8), 64);
    next->bucket_block = std::make_shared<Buffer>(std::size_t{next->bucket_count} * kBucketBytes);
    next->arena_block = std::make_shared<Buffer>(next->arena_capacity);
    next->buckets = reinterpret_cast<std::uint64_t*>(next->bucket_block->data());
    next->arena = next->arena_block->data();

    // Nobody reads `next` yet: plain stores.
    const std::size_t end = next->slot_count();
    for (std::size_t i = 0; i < old.slot_count(); ++i) {
        const std::uint64_t v = old.buckets[i];
        if (!is_record(v))
            continue;
        const std::uint8_t* rec = old.arena + (v & kOffsetMask);
        const Header h = header_at(rec);
        const std::size_t size = record_size(h);
        std::memcpy(next->arena + next->arena_used, rec, size);
        const std::uint64_t hash = key_hash(key_at(rec));
        std::size_t j = std::size_t{bucket_of(hash, next->bucket_count)} * kSlotsPerBucket;
        while (next->buckets[j])
            j = j + 1 == end ? 0 : j + 1;
        next->buckets[j] = slot_for(hash, next->arena_used);
        next->arena_used += size;
        next->value_bytes += h.encoded_length;
        ++next->records;
    }
    install(s, std::move(next), &retired);
    ++shard_rebuilds_;
}

void Table::compact(double fraction, Retired& retired)
{
    for (std::size_t s = 0; s < shard_count(); ++s) {
        const Shard& sh = *owners_[s];
        const bool dirty = sh.garbage_bytes || sh.tombstones;
        if (dirty && static_cast<double>(sh.garbage_bytes) >= fraction * static_cast<double>(sh.arena_used))
            rebuild(s, 0, 0, retired);
    }
}

void Table::home(std::string_view prefix, Retired& retired)
{
    if (homes(prefix))
        return;
    auto next = std::make_unique<HomedSet>(*homed_owner_);
    next->emplace(prefix);
    set_homed(std::move(next), retired);
}

void Table::unhome(std::string_view prefix, Retired& retired)
{
    if (!homes(prefix))
        return;
    auto next = std::make_unique<HomedSet>(*homed_owner_);
    if (const auto it = next->find(prefix); it != next->end())
        next->erase(it);
    set_homed(std::move(next), retired);
}

} // namespace idpath::table
