#pragma once
/// JSON-lines identifier import (docs/data-format.md): one identifier per line,
///
/// ```json
/// {"handle":"88.100.1/abc","values":[{"index":1,"type":"URL","data":"https://example.org/a"}]}
/// ```
/// Blank lines and lines whose first non-blank character is '#' are skipped.
///
/// Control plane only: never on serving threads. Loads are all-or-nothing: a caller that gets
/// errors back must discard the TableBuilder it passed in.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/result.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::load {

/// Longest line accepted; longer lines are errors (a record must fit one response anyway).
inline constexpr std::size_t kMaxLineBytes = 4u << 20;
/// Most errors load_identifiers() returns; the rest are counted in a final entry.
inline constexpr std::size_t kMaxReportedErrors = 100;

/// One line, parsed: the handle as written and its values in the order written.
struct IdentifierRecord {
    std::string handle;
    std::vector<wire::HandleValue> values;
};

/// Parses one line (without its newline). `default_timestamp` fills values that name none.
/// Checks everything that one line can show: JSON syntax, duplicate object keys, unknown fields,
/// every field's type and range, the handle's shape, duplicate value indexes, at most
/// wire::kMaxValues values, and that the encoded values fit one response message. It does not
/// check homing or duplicate handles (load_identifiers() does, across lines and files).
/// Error: one reason naming the field path, e.g. "values[1].ttl: must be an integer 0..4294967295,
/// got -5" (several joined by "; "). Pure; any thread; never throws.
Result<IdentifierRecord, std::string> parse_identifier_line(std::string_view line,
                                                            std::uint32_t default_timestamp);

struct LoadError {
    std::filesystem::path file; // empty for the final "... N more errors" entry
    std::size_t line = 0;       // 1-based; 0 when the error concerns the whole file
    std::string reason;

    /// "file:line: reason" ("file: reason" without a line, "reason" without a file).
    std::string to_string() const;
};

struct LoadReport {
    std::size_t identifiers = 0; // handles added to the builder
    std::size_t values = 0;
    std::size_t value_bytes = 0; // encoded size of all values
    std::size_t lines = 0;       // lines read, blank and comment lines included
    double seconds = 0;          // wall time of the whole load
};

/// Loads `files` in order into `builder` and marks every prefix of `homed_prefixes` homed in it.
/// Every handle's prefix (before the first '/', compared case-insensitively) must be one of
/// `homed_prefixes`, except prefix handles "0.NA/..." (site records, referrals), which are
/// accepted for any prefix. A handle (after table::normalize) may appear once across all files.
///
/// Lines are parsed and encoded in parallel (oneTBB, in a private task arena) and added
/// sequentially in file order, so the table content and the error order do not depend on thread timing. Memory held
/// beyond the builder is one batch of lines.
///
/// Errors: every problem found, in file and line order, capped at kMaxReportedErrors plus a
/// final "... N more errors"; on any error the builder is left partly filled and must be
/// discarded. A file that cannot be opened or read is an error naming it.
Result<LoadReport, std::vector<LoadError>>
load_identifiers(const std::vector<std::filesystem::path>& files,
                 const std::vector<std::string>& homed_prefixes, table::TableBuilder& builder,
                 std::uint32_t default_timestamp);

} // namespace idpath::load
