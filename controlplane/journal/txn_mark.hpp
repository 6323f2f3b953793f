#pragma once
/// The "<snapshot>.txn" sidecar: the last journal txn id a snapshot file holds, so a restart
/// replays only the journal's entries after it. A tiny text file ("42\n"), written atomically
/// (tmp, fsync, rename, directory fsync) after the snapshot itself, so after a crash it names
/// the saved snapshot's txn or an older one: replaying from an older one is harmless (replay
/// is idempotent), from a newer one is impossible.
/// Control plane only; any thread.

#include <cstdint>
#include <filesystem>
#include <string>

#include "dataplane/base/result.hpp"

namespace idpath::journal {

/// The sidecar's path for `snapshot`.
std::filesystem::path txn_mark_path(const std::filesystem::path& snapshot);

/// Writes `txn` to `path` atomically.
Result<void, std::string> write_txn_mark(const std::filesystem::path& path, std::uint64_t txn);

/// The txn id in `path`; 0 when the file does not exist (a snapshot saved without a journal).
Result<std::uint64_t, std::string> read_txn_mark(const std::filesystem::path& path);

} // namespace idpath::journal
