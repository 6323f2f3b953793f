#pragma once
/// Every live record of a table, shard by shard: what a digest sums, a replication dump sends
/// and a full dump's difference compares. The writer's thread (it reads the shards as laid out
/// now), or a table no writer changes; O(records of the shard), off the hot path.

#include <cstddef>
#include <string_view>

#include "dataplane/table/layout.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::table {

/// Calls f(key, view) for each live record of shard `s` (s < table.shard_count()).
template <class F>
void for_each_record(const Table& table, std::size_t s, F&& f)
{
    const ShardImage image = table.shard_image(s);
    const auto* slots = reinterpret_cast<const std::uint64_t*>(image.buckets.data());
    const std::size_t slot_count = std::size_t{image.bucket_count} * layout::kSlotsPerBucket;
    for (std::size_t i = 0; i < slot_count; ++i) {
        const std::uint64_t slot = layout::load_slot(&slots[i]);
        if (!layout::is_record(slot))
            continue;
        const std::uint8_t* rec = image.arena.data() + (slot & layout::kOffsetMask);
        f(layout::key_at(rec), layout::view_of(rec));
    }
}

/// Calls f(key, view) for each live record of the table.
template <class F>
void for_each_record(const Table& table, F&& f)
{
    for (std::size_t s = 0; s < table.shard_count(); ++s)
        for_each_record(table, s, f);
}

} // namespace idpath::table
