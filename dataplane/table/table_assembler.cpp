// Putting a table together from shard images (builds and snapshots), and checking a shard's
// structure so that no input can make a lookup read outside the table.
#include <string>

#include "dataplane/base/bytes.hpp"
#include "dataplane/table/layout.hpp"
#include "dataplane/table/shard.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::table {

using namespace layout;

struct TableAssembler::Impl {
    std::shared_ptr<Table> table;
    std::vector<std::shared_ptr<Table::Shard>> shards;
    std::unique_ptr<Table::HomedSet> homed = std::make_unique<Table::HomedSet>();
};

TableAssembler::TableAssembler(unsigned shard_bits, std::span<const ShardImage> shapes,
                               std::span<const std::uint64_t> arena_bytes)
    : impl_(std::make_unique<Impl>())
{
    const std::size_t n = std::size_t{1} << shard_bits;
    // Every shard's buckets in one block and every arena in another, so that both are large
    // enough for huge pages; a shard rebuilt later gets blocks of its own.
    std::size_t bucket_total = 0;
    std::size_t arena_total = 0;
    for (std::size_t s = 0; s < n; ++s) {
        bucket_total += std::size_t{shapes[s].bucket_count} * kBucketBytes;
        arena_total += round_up(arena_bytes[s], 64); // a shard's records start on a line
    }
    auto buckets = std::make_shared<Buffer>(bucket_total);
    auto arenas = std::make_shared<Buffer>(arena_total);

    impl_->table = std::make_shared<Table>();
    Table& t = *impl_->table;
    t.shard_bits_ = shard_bits;
    t.shards_ = std::make_unique<std::atomic<const Table::Shard*>[]>(n);
    t.owners_.assign(n, nullptr);
    std::size_t bucket_at = 0;
    std::size_t arena_at = 0;
    for (std::size_t s = 0; s < n; ++s) {
        auto shard = std::make_shared<Table::Shard>();
        shard->bucket_block = buckets;
        shard->arena_block = arenas;
        shard->buckets = reinterpret_cast<std::uint64_t*>(buckets->data() + bucket_at);
        shard->arena = arenas->data() + arena_at;
        shard->bucket_count = shapes[s].bucket_count;
        shard->records = shapes[s].records;
        shard->tombstones = shapes[s].tombstones;
        shard->value_bytes = shapes[s].value_bytes;
        shard->garbage_bytes = shapes[s].garbage_bytes;
        shard->arena_used = arena_bytes[s];
        shard->arena_capacity = arena_bytes[s];
        bucket_at += std::size_t{shapes[s].bucket_count} * kBucketBytes;
        arena_at += round_up(arena_bytes[s], 64);
        impl_->shards.push_back(std::move(shard));
    }
}

TableAssembler::~TableAssembler() = default;

std::span<std::uint8_t> TableAssembler::buckets(std::size_t s) noexcept
{
    const auto& sh = *impl_->shards[s];
    return {reinterpret_cast<std::uint8_t*>(sh.buckets), sh.slot_count() * sizeof(std::uint64_t)};
}

std::span<std::uint8_t> TableAssembler::arena(std::size_t s) noexcept
{
    const auto& sh = *impl_->shards[s];
    return {sh.arena, sh.arena_used};
}

void TableAssembler::home(std::string_view normalised_prefix)
{
    impl_->homed->emplace(normalised_prefix);
}

namespace {

/// Where the values a resolver reads of one entry (index, permissions, type) sit inside it.
bool entry_ok(const ValueEntry& e, ByteSpan encoded) noexcept
{
    if (e.offset > encoded.size() || e.length > encoded.size() - e.offset)
        return false;
    if (e.length < wire::kValueTypeOffset + 4)
        return false;
    const std::uint32_t type_length = load_be32(encoded.data() + e.offset + wire::kValueTypeOffset);
    return type_length <= e.length - wire::kValueTypeOffset - 4;
}

} // namespace

Result<bool, std::string> TableAssembler::check(std::size_t s) const
{
    const Table::Shard& sh = *impl_->shards[s];
    const auto fail = [s](std::string what) {
        return Err{"shard " + std::to_string(s) + ": " + std::move(what)};
    };
    if (sh.bucket_count == 0)
        return fail("no buckets");
    if (sh.arena_used < kFirstRecord)
        return fail("arena shorter than its first record offset");
    std::size_t records = 0, tombstones = 0, empty = 0, values = 0, bytes = 0;
    for (std::size_t i = 0; i < sh.slot_count(); ++i) {
        const std::uint64_t v = sh.buckets[i];
        if (v == 0) {
            ++empty;
            continue;
        }
        if (v == kTombstone) {
            ++tombstones;
            continue;
        }
        const std::size_t at = v & kOffsetMask;
        const auto where = [&] { return "slot " + std::to_string(i) + " (record at " + std::to_string(at) + ")"; };
        if (at < kFirstRecord || at % 4 || at > sh.arena_used || sh.arena_used - at < kHeaderSize)
            return fail(where() + " points outside the arena");
        const std::uint8_t* rec = sh.arena + at;
        const Header h = header_at(rec);
        if ((h.count_flags & ~(kCountMask | kAllPublicFlag)) || (h.count_flags & kCountMask) > wire::kMaxValues ||
            h.key_length > wire::kMaxHandleLength)
            return fail(where() + ": bad record header");
        if (record_size(h) > sh.arena_used - at)
            return fail(where() + ": record runs past the arena");
        const std::uint64_t hash = key_hash(key_at(rec));
        if (shard_index(hash, impl_->table->shard_bits_) != s || static_cast<std::uint16_t>(v >> 48) != tag_of(hash))
            return fail(where() + ": key does not hash to this slot");
        const RecordView view = view_of(rec);
        for (const ValueEntry& e : view.values)
            if (!entry_ok(e, view.encoded))
                return fail(where() + ": value entry outside the record");
        ++records;
        values += h.encoded_length;
        bytes += record_size(h);
    }
    // A lookup of a missing key stops at an empty slot: without one it would never stop.
    if (empty == 0)
        return fail("no empty slot");
    if (records != sh.records || tombstones != sh.tombstones)
        return fail("holds " + std::to_string(records) + " records and " + std::to_string(tombstones) +
                    " tombstones, declares " + std::to_string(sh.records) + " and " + std::to_string(sh.tombstones));
    if (values != sh.value_bytes)
        return fail("value bytes do not add up");
    if (bytes + sh.garbage_bytes + kFirstRecord != sh.arena_used)
        return fail("record and garbage bytes do not add up to the arena");
    return true;
}

std::shared_ptr<Table> TableAssembler::finish() &&
{
    Table& t = *impl_->table;
    std::size_t records = 0, values = 0;
    for (std::size_t s = 0; s < impl_->shards.size(); ++s) {
        records += impl_->shards[s]->records;
        values += impl_->shards[s]->value_bytes;
        t.owners_[s] = impl_->shards[s];
        t.shards_[s].store(impl_->shards[s].get(), std::memory_order_release);
    }
    t.recount_memory();
    t.size_ = records;
    t.value_bytes_ = values;
    Retired unused; // the table is not shared yet: nothing to wait for
    t.set_homed(std::move(impl_->homed), unused);
    return std::move(impl_->table);
}

} // namespace idpath::table
