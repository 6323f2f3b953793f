#pragma once
/// Snapshot files (DESIGN.md section 4, docs/snapshot-format.md): a table stored exactly as laid
/// out in memory (layout.hpp), so loading copies octets and checks structure, never re-encodes.
///
///   header (256 octets) | directory (64 octets per shard) | homed prefixes | padding to 4096
///   | data: per shard, its buckets then its arena, each shard starting 64-aligned
///
/// Native little-endian; one XXH3-64 over header, directory and homed list, one per shard over
/// its buckets and arena. Nothing a file says is trusted: read_snapshot_head() checks every
/// size, offset and count against the file and each other, load_shard() the shard's checksum
/// and TableAssembler::check() its structure, so a crafted file is refused with a reason, never
/// read out of bounds. Pure: the caller maps, reads and writes files (controlplane/snapshot/).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::table::snapshot {

inline constexpr char kMagic[8] = {'I', 'D', 'P', 'S', 'N', 'A', 'P', '\0'};
/// Bumped when the file's own structure (header, directory, homed list) changes.
inline constexpr std::uint32_t kFormatVersion = 1;
/// Bumped when layout.hpp changes how buckets, slots or records are laid out: old files are then
/// refused by name instead of misread. snapshot.cpp pins the layout constants it was written for.
inline constexpr std::uint32_t kLayoutVersion = 1;
/// Written as a native integer: a reader of the other byte order sees 0x04030201.
inline constexpr std::uint32_t kEndianMarker = 0x01020304;
inline constexpr char kHashId[] = "xxh3-64";
inline constexpr std::size_t kHeaderBytes = 256;
inline constexpr std::size_t kDirectoryEntryBytes = 64;
/// The data section starts page-aligned so a mapping of it could be used in place.
inline constexpr std::size_t kDataAlign = 4096;
inline constexpr std::size_t kShardAlign = 64;
/// Octets of the free-form source field (NUL-padded; longer sources are cut).
inline constexpr std::size_t kSourceBytes = 96;

/// What the saver records about where the table came from.
struct SnapshotMeta {
    std::int64_t created_unix = 0;
    std::string source; // e.g. "idpathd@node-7 generation 42"; at most kSourceBytes octets kept
};

/// One shard as the directory describes it, validated.
struct ShardEntry {
    std::uint32_t bucket_count = 0;
    std::uint32_t records = 0;
    std::uint32_t tombstones = 0;
    std::uint64_t value_bytes = 0;
    std::uint64_t garbage_bytes = 0;
    std::uint64_t buckets_offset = 0; // in the file; the arena follows the buckets
    std::uint64_t arena_offset = 0;
    std::uint64_t arena_bytes = 0;
    std::uint64_t checksum = 0; // XXH3-64 of buckets then arena
};

/// A snapshot's header, directory and homed list, every field checked.
struct SnapshotInfo {
    std::uint32_t format_version = 0;
    std::uint32_t layout_version = 0;
    unsigned shard_bits = 0;
    std::uint64_t records = 0;
    std::uint64_t value_bytes = 0;
    std::int64_t created_unix = 0;
    std::string source;
    std::uint64_t data_offset = 0;
    std::uint64_t data_bytes = 0;
    std::uint64_t file_bytes = 0;
    std::uint64_t head_checksum = 0;
    std::vector<std::string> homed; // normalised prefixes
    std::vector<ShardEntry> shards;
};

/// A run of file octets that lives in the table: written at `offset` as is.
struct Piece {
    std::uint64_t offset = 0;
    ByteSpan bytes;
};

/// How to write a snapshot of a table without copying it: `head` at offset 0, then every piece at
/// its offset; the octets in between are zero (holes of a file truncated to `file_bytes`).
/// The pieces point into the table: valid until its next update (writer thread).
struct SnapshotPlan {
    std::vector<std::uint8_t> head;
    std::vector<Piece> pieces;
    std::uint64_t file_bytes = 0;
};

/// XXH3-64 of a shard's buckets then arena, as the directory stores it. Any thread.
std::uint64_t shard_checksum(ByteSpan buckets, ByteSpan arena) noexcept;

/// The plan for `table` as it is now, given every shard's shard_checksum() (the caller may
/// compute them in parallel). Writer thread of `table`.
SnapshotPlan plan_snapshot(const Table& table, const SnapshotMeta& meta, std::span<const std::uint64_t> checksums);
/// The same, checksums computed here, one shard after another.
SnapshotPlan plan_snapshot(const Table& table, const SnapshotMeta& meta);
/// The whole file in memory (tests, fuzz seeds, small tables).
std::vector<std::uint8_t> encode_snapshot(const Table& table, const SnapshotMeta& meta);

/// Checks header, directory and homed list of a whole file against each other and the file's
/// size; the shards' octets are checked by load_shard(). Every error starts "snapshot: " and
/// says what is wrong ("snapshot: truncated: header says 123456 octets, file has 1000").
Result<SnapshotInfo, std::string> read_snapshot_head(ByteSpan file);

/// A TableAssembler shaped as `info` says, the homed prefixes already in. Throws std::bad_alloc
/// when the memory is not there. (A pointer: TableAssembler does not move.)
std::unique_ptr<TableAssembler> make_assembler(const SnapshotInfo& info);

/// Copies shard `s` of `file` into `assembler`, checking its checksum on the way, then its
/// structure (TableAssembler::check). Distinct shards may load on distinct threads.
Result<bool, std::string> load_shard(ByteSpan file, const SnapshotInfo& info, std::size_t s,
                                     TableAssembler& assembler);

/// read_snapshot_head(), every shard loaded in order, finish(): the table or why not.
/// Never throws (no memory is an error too).
Result<std::shared_ptr<Table>, std::string> load_snapshot(ByteSpan file);

} // namespace idpath::table::snapshot
