#pragma once
/// Where the serving table comes from (docs/operations.md, "Table sources"): the snapshot file
/// (data.snapshot) when it is set and exists, otherwise the identifier files. Used at start and
/// by every reload, so both load the same way.
/// Control plane only; any control thread.

#include <memory>
#include <string>

#include "controlplane/config/config.hpp"
#include "controlplane/load/jsonl_loader.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::app {

struct LoadedTable {
    std::shared_ptr<table::Table> table;
    std::string source; // "snapshot" or "files"
    load::LoadReport report;
};

/// The table `cfg` names, all or nothing. Errors are logged in full and summed up in the
/// result ("identifier data rejected (3 error(s)): ids.jsonl:2: ..." or
/// "/var/lib/idpath/t.snap: snapshot: shard 4: checksum mismatch").
Result<LoadedTable, std::string> load_table(const config::Config& cfg);

/// Builds the table from the identifier files and writes it to `out` as a snapshot
/// (`idpathd --write-snapshot`). Returns what to print.
Result<std::string, std::string> write_snapshot_from_files(const config::Config& cfg, const std::string& out);

} // namespace idpath::app
