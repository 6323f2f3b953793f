#pragma once
/// The file sink: batches to rotated, optionally zstd-compressed files in one directory, hash
/// chained so `idpathctl logs verify DIR` detects tampering, with retention that deletes only
/// this node's own files (docs/log-schema.md, "Files").
///
/// One zstd frame per batch, written with one write(2): a crash loses at most the batch being
/// written, and a reader can read a file still being written or cut short up to its last whole
/// frame. Files are created with O_EXCL under a sequence one past the highest in the directory,
/// so no restart overwrites anything; the chain carries on from the newest file's last link.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "controlplane/mirror/core/sink.hpp"
#include "controlplane/mirror/file/log_file_name.hpp"

namespace idpath::mirror {

struct FileSinkOptions {
    std::filesystem::path directory;
    LogFormat format = LogFormat::Binary;
    /// Rotate once a file holds this many octets (as written, compressed); 0: no size limit.
    std::uint64_t rotate_bytes = std::uint64_t{256} << 20;
    /// Rotate once a file is this old (from its first batch); 0: no time limit.
    std::uint32_t rotate_seconds = 3600;
    /// Delete this node's files whose start time (in the name) is older; 0 (or over 100 000):
    /// keep everything.
    std::uint32_t retention_days = 183;
    /// zstd level 1-19; 0 writes plain files (no .zst).
    int zstd_level = 3;
    /// Wall clock, for file names, rotation and retention; tests inject one. Null: system clock.
    std::function<std::chrono::system_clock::time_point()> clock;
};

/// Creates the directory if needed, finds where the chain and the file sequence stand, applies
/// retention once. Err when the directory cannot be made or read.
Result<std::unique_ptr<Sink>, std::string> make_file_sink(const FileSinkOptions& options,
                                                          const Origin& origin);

} // namespace idpath::mirror
