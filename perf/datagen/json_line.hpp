#pragma once
/// Writes a generated identifier as one line of docs/data-format.md's JSON-lines format:
/// {"handle":"...","values":[{"index":1,"type":"URL","data":"...","timestamp":...}, ...]}
/// Every value names its timestamp, so loading the line gives the same bytes whenever it runs.
/// Thread-safety: pure; any thread. Appends to the caller's buffer, no other allocation.

#include <string>

#include "perf/datagen/identifier.hpp"

namespace idpath::datagen {

/// Appends the identifier's line, newline included, to `out`.
void append_json_line(const Identifier& id, std::string& out);

} // namespace idpath::datagen
