#pragma once
/// The two steps every durable file write here takes (snapshots, the journal, its txn mark):
/// write all of a buffer, and make a created or renamed file's directory entry durable.
/// On failure both return false with errno telling why.

#include <cstdint>
#include <filesystem>

#include "dataplane/base/bytes.hpp"

namespace idpath::io {

/// Writes all of `bytes` at `offset`; pwrite may write less than asked (signals, quotas).
bool write_all(int fd, ByteSpan bytes, std::uint64_t offset);

/// fsync of `dir` (the current directory when empty): the directory entry is data too.
bool sync_directory(const std::filesystem::path& dir);

} // namespace idpath::io
