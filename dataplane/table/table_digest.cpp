#include "dataplane/table/table_digest.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dataplane/table/table_walk.hpp"

static_assert(idpath::table::kDigestBuckets == 64, "digest() takes the bucket from the top 6 bits");

namespace idpath::table {

std::uint64_t TableDigest::total() const noexcept
{
    return XXH3_64bits(buckets.data(), sizeof buckets);
}

void add_to_digest(TableDigest& d, std::string_view key, const RecordView& view) noexcept
{
    const std::uint64_t h = key_hash(key);
    const std::size_t b = static_cast<std::size_t>(h >> 58); // kDigestBuckets = 64
    d.buckets[b] += XXH3_64bits_withSeed(view.encoded.data(), view.encoded.size(), h);
    ++d.bucket_records[b];
    ++d.records;
}

TableDigest digest(const Table& table)
{
    TableDigest d;
    for_each_record(table, [&d](std::string_view key, const RecordView& view) { add_to_digest(d, key, view); });
    return d;
}

} // namespace idpath::table
