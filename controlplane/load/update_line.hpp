#pragma once
/// JSON-lines updates (docs/data-format.md, "Updates"): one change to the serving table per line,
///
/// ```json
/// {"op":"create","handle":"88.100.1/abc","values":[{"index":1,"type":"URL","data":"https://a"}]}
/// {"op":"modify_values","handle":"88.100.1/abc","values":[{"index":1,"type":"URL","data":"https://b"}]}
/// {"op":"remove_values","handle":"88.100.1/abc","indexes":[2,3]}
/// {"op":"delete","handle":"88.100.1/abc"}
/// {"op":"home","prefix":"88.100.2"}
/// ```
/// ops: create, replace, delete, add_values, modify_values, remove_values, home, unhome
/// (table::UpdateOp). Values are written as in identifier lines.
/// Control plane only. Pure; any thread; never throws.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/load/jsonl_loader.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/table/update.hpp"

namespace idpath::load {

/// Parses one line (without its newline). The error names the field: "indexes[1]: must be an
/// integer 0..4294967295, got -1".
Result<table::Update, std::string> parse_update_line(std::string_view line, std::uint32_t default_timestamp);

struct UpdateFile {
    std::vector<table::Update> updates;
    std::vector<std::size_t> lines; // lines[i]: the 1-based line of updates[i]
};

/// Reads a whole update file: every line parsed before any is applied, so a typo on line 900
/// refuses the batch instead of applying 899 changes. Errors as load_identifiers() gives them.
Result<UpdateFile, std::vector<LoadError>> read_update_file(const std::filesystem::path& file,
                                                            std::uint32_t default_timestamp);

} // namespace idpath::load
