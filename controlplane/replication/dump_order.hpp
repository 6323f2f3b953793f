#pragma once
/// The order a dump sends handles in (docs/replication.md, "Resuming a broken dump"): by the
/// storage key's 64-bit hash as the table computes it (table::key_hash), then by the key's
/// octets. Every key has a place in that order whether or not it exists, so a mirror's resume
/// point means "every handle after it" even when that handle was deleted since, records were
/// added, or a reload changed the table's shard count. The table's shards are ranges of that
/// hash's top bits (SourcePort::visit), so a dump sorts one shard at a time and the whole stream
/// comes out in order. Pure; any thread.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/table/layout.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::replication {

/// HANDLE.NET's DumpHandlesRequest.startingPointType values: which part of a dump a resume
/// continues after. The *_REPLICATION_DB kinds follow date records, which only a primary that
/// itself replicates others sends (idpathd never does).
inline constexpr std::uint32_t kResumeHandleReplicationDb = 0;
inline constexpr std::uint32_t kResumeNaReplicationDb = 1;
inline constexpr std::uint32_t kResumeHandle = 2;
inline constexpr std::uint32_t kResumeNa = 3;

inline std::uint64_t dump_hash(std::string_view key) noexcept { return table::key_hash(key); }

/// True when (ha, a) comes before (hb, b) in dump order.
inline bool dump_before(std::uint64_t ha, std::string_view a, std::uint64_t hb, std::string_view b) noexcept
{
    return ha != hb ? ha < hb : a < b;
}

/// The piece of `pieces` (a power of two, at most 2^layout::kMaxShardBits) that holds `hash`:
/// the table's own shard of it.
inline std::size_t dump_piece_of(std::uint64_t hash, std::size_t pieces) noexcept
{
    return table::layout::shard_index(hash, static_cast<unsigned>(std::countr_zero(pieces)));
}

/// The lowest hash piece `i` of `pieces` holds.
inline std::uint64_t dump_piece_start(std::size_t i, std::size_t pieces) noexcept
{
    const int bits = std::countr_zero(pieces);
    return bits == 0 ? 0 : static_cast<std::uint64_t>(i) << (64 - bits);
}

} // namespace idpath::replication
