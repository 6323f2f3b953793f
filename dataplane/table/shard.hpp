#pragma once
/// Table::Shard: one shard's memory and the writer's bookkeeping about it. Internal to
/// dataplane/table.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/table/buffer.hpp"
#include "dataplane/table/layout.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::table {

struct Table::Shard {
    // What lookups read: fixed for the life of this object.
    std::uint64_t* buckets = nullptr; // bucket_count x 8 slots
    std::uint8_t* arena = nullptr;
    std::uint32_t bucket_count = 0;

    // The writer's: lookups never read these.
    std::uint32_t records = 0;
    std::uint32_t tombstones = 0;
    std::size_t arena_used = layout::kFirstRecord;
    std::size_t arena_capacity = 0;
    std::size_t value_bytes = 0;
    std::size_t garbage_bytes = 0;
    // The memory: a build's shards share two blocks, a rebuilt shard owns its own.
    std::shared_ptr<Buffer> bucket_block;
    std::shared_ptr<Buffer> arena_block;

    std::size_t slot_count() const noexcept { return std::size_t{bucket_count} * layout::kSlotsPerBucket; }
};

} // namespace idpath::table
