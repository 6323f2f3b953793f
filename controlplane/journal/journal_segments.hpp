#pragma once
/// The files of a segmented journal (docs/operations.md, "Journal"): the active file at the
/// configured path, and beside it the sealed segments, `<path>.<first txn, 20 digits>`, so that
/// a directory listing sorts them in txn order and each name says where its file starts.
///
/// Naming, listing, the check that the files follow each other without a gap, and the
/// creation of a new active file. Control plane only; one writer.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dataplane/base/result.hpp"

namespace idpath::journal {

/// The sealed segment of the journal at `active` whose first entry is txn `first_txn`.
std::filesystem::path segment_path(const std::filesystem::path& active, std::uint64_t first_txn);

/// Where a new active file is written before it is renamed to `active`: a crash leaves either
/// no active file or a whole one, never a header cut short. open() removes a leftover.
std::filesystem::path creating_path(const std::filesystem::path& active);

struct SegmentFile {
    std::filesystem::path path;
    std::uint64_t first_txn = 0; // as its name says
};

/// The sealed segments beside `active`, ascending by first txn. Other files in the directory
/// (snapshots, the txn mark, an operator's copies such as `<path>.bak`) are not segments.
Result<std::vector<SegmentFile>, std::string> list_segments(const std::filesystem::path& active);

/// What one file of the journal holds: txns [first_txn, last_txn]; last_txn = first_txn - 1
/// when it holds none (an active file just started).
struct SegmentSpan {
    std::filesystem::path path;
    std::uint64_t first_txn = 0;
    std::uint64_t last_txn = 0;
};

/// Empty when every file starts right after the one before it ends; otherwise the refusal,
/// naming both files and the txns missing (a gap) or held twice (an overlap).
std::string check_consecutive(const std::vector<SegmentSpan>& files);

/// Creates the active file `active` holding only a version-2 header for `first_txn`: written
/// and fsynced under creating_path(), renamed over `active`, directory fsynced. Returns it
/// opened read-write.
Result<int, std::string> create_active(const std::filesystem::path& active, std::uint64_t first_txn);

} // namespace idpath::journal
