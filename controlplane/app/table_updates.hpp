#pragma once
/// Applying a file of updates (docs/data-format.md, "Updates") to the serving table: in chunks,
/// each followed by a grace period after which what the chunk replaced is freed, so memory held
/// for readers stays bounded however long the batch. Readers never wait; the writer does.
/// Control plane only: the table's writer thread (the daemon's mutex holder).

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "controlplane/load/update_line.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/table/update.hpp"

namespace idpath::app {

/// Updates applied since start, by outcome (table::UpdateOutcome order).
struct UpdateTotals {
    std::uint64_t batches = 0;
    std::array<std::uint64_t, table::kUpdateOutcomes> by_outcome{};
};

/// Changes applied between two grace periods.
inline constexpr std::size_t kUpdateChunk = 4096;

/// What the caller does per change (the journal): `applied` after each update that applied,
/// `chunk_done` after each chunk, before its grace period; a non-empty error from it stops the
/// batch there (the chunk's changes are in the table already) and goes into the reply.
struct UpdateHooks {
    std::function<void(const table::Update&)> applied;
    std::function<std::string()> chunk_done;
};

/// Applies every update of `file` to `table`, calling `grace` after each chunk (it returns once
/// no reader can hold what the chunk retired). Adds the outcomes to `totals`. Returns the text
/// for the reply: "updated: 998 applied, 2 refused (handle_exists: 2, lines 4 7) in 0.012 s";
/// `failed` is set when a hook stopped the batch.
std::string apply_update_file(table::Table& table, const load::UpdateFile& file, const std::function<void()>& grace,
                              UpdateTotals& totals, const UpdateHooks& hooks = {}, bool* failed = nullptr);

} // namespace idpath::app
