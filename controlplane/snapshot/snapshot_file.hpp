#pragma once
/// Snapshot files on disk (docs/snapshot-format.md; the format is dataplane/table/snapshot.hpp).
///
/// Saving never leaves a partial file under the final name: it writes "<path>.tmp" in the same
/// directory, fsyncs it, renames it over `path` and fsyncs the directory, so after a crash the
/// name holds the old snapshot or the new one. Loading maps the file, checks its head, then
/// checks and copies the shards in parallel into a new table: on any error the caller gets the
/// reason and keeps serving the table it has.
///
/// Control plane only. save_snapshot() runs on the table's writer thread (it reads the table's
/// memory as laid out now); load_snapshot_file() on any control thread. Both use oneTBB in a
/// private task arena so they do not compete with other control-plane work.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "dataplane/base/result.hpp"
#include "dataplane/table/snapshot.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::snapshot {

struct SaveReport {
    double seconds = 0; // wall time, fsyncs included
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;
};

/// Writes a snapshot of `table` to `path` atomically. Errors name the path and the system's
/// reason ("snapshot: write /var/lib/idpath/t.snap.tmp: No space left on device"); "<path>.tmp"
/// is removed on every error.
Result<SaveReport, std::string> save_snapshot(const table::Table& table, const std::filesystem::path& path,
                                              const table::snapshot::SnapshotMeta& meta);

struct LoadReport {
    std::shared_ptr<table::Table> table;
    double seconds = 0; // wall time from open to the finished table
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;
    std::int64_t created_unix = 0;
    std::string source;
};

/// Loads a snapshot file into a new table. Errors start with the path ("/x/t.snap: snapshot:
/// shard 17: checksum mismatch"); a snapshot damaged anywhere is refused whole.
Result<LoadReport, std::string> load_snapshot_file(const std::filesystem::path& path);

} // namespace idpath::snapshot
