#include "dataplane/table/table_digest.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dataplane/table/layout.hpp"

static_assert(idpath::table::kDigestBuckets == 64, "digest() takes the bucket from the top 6 bits");

namespace idpath::table {

std::uint64_t TableDigest::total() const noexcept
{
    return XXH3_64bits(buckets.data(), sizeof buckets);
}

TableDigest digest(const Table& table)
{
    TableDigest d;
    for (std::size_t s = 0; s < table.shard_count(); ++s) {
        const ShardImage image = table.shard_image(s);
        const auto* slots = reinterpret_cast<const std::uint64_t*>(image.buckets.data());
        const std::size_t slot_count = std::size_t{image.bucket_count} * layout::kSlotsPerBucket;
        for (std::size_t i = 0; i < slot_count; ++i) {
            const std::uint64_t slot = layout::load_slot(&slots[i]);
            if (!layout::is_record(slot))
                continue;
            const std::uint8_t* rec = image.arena.data() + (slot & layout::kOffsetMask);
            const std::string_view key = layout::key_at(rec);
            const RecordView view = layout::view_of(rec);
            const std::uint64_t h = key_hash(key);
            const std::size_t b = static_cast<std::size_t>(h >> 58); // kDigestBuckets = 64
            d.buckets[b] += XXH3_64bits_withSeed(view.encoded.data(), view.encoded.size(), h);
            ++d.bucket_records[b];
            ++d.records;
        }
    }
    return d;
}

} // namespace idpath::table
