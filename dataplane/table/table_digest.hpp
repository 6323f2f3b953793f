#pragma once
/// A digest of a table's contents that two nodes can compare to prove they serve the same
/// records (issue 7: a mirror against its upstream; `idpathctl digest`): independent of the
/// order records were added in, of updates versus a fresh load, and of the table's memory layout
/// and shard count. Records are spread over kDigestBuckets buckets by their key's hash, so two
/// tables that differ show which part of the key space differs.
///
/// Each record contributes XXH3-64 of its encoded values seeded with its key's hash; a bucket is
/// the sum (mod 2^64) of its records' contributions, so it does not depend on order. Homed
/// prefixes are not included (status lists them).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/table/table.hpp"

namespace idpath::table {

inline constexpr std::size_t kDigestBuckets = 64;

struct TableDigest {
    std::uint64_t records = 0;
    std::array<std::uint64_t, kDigestBuckets> buckets{};
    std::array<std::uint64_t, kDigestBuckets> bucket_records{};

    /// XXH3-64 of the bucket sums: one number for the whole table.
    std::uint64_t total() const noexcept;
};

/// Adds one record to `d` (a digest of a subset: replication shards).
void add_to_digest(TableDigest& d, std::string_view key, const RecordView& view) noexcept;

/// Walks every live record. The writer's thread (it reads the shards as laid out now), or a
/// table no writer changes; O(records), off the hot path.
TableDigest digest(const Table& table);

} // namespace idpath::table
