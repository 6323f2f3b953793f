#pragma once
/// What a snapshot file holds, as JSON, for `idpathctl snapshot info FILE` and for logs: the
/// header's fields, totals over the shards, optionally every shard and a checksum pass.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "dataplane/base/result.hpp"
#include "dataplane/table/snapshot.hpp"

namespace idpath::snapshot {

struct DescribeOptions {
    bool shards = false; // one object per shard under "shard_list"
    bool verify = false; // check every shard's checksum (reads the whole file)
};

/// The fields of a checked head (no file access).
nlohmann::json describe_snapshot(const table::snapshot::SnapshotInfo& info, bool shards);

/// Maps `path`, checks its head and describes it; with `verify`, "verified" is true or the
/// description has "errors": ["snapshot: shard 3: checksum mismatch", ...]. A head that does not
/// check is an error (the reason, prefixed with the path), not a description.
Result<nlohmann::json, std::string> describe_snapshot_file(const std::filesystem::path& path, DescribeOptions options);

} // namespace idpath::snapshot
