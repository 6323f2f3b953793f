#pragma once
/// Between the journal and the table: the entry an applied update becomes, and an entry
/// replayed onto a table. Replay is idempotent (upsert the stored values, erase, home,
/// unhome), so an entry the snapshot already holds is harmless to apply again.
/// Control plane only: the table's writer thread.

#include <cstdint>
#include <string>

#include "controlplane/journal/journal_format.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/table/update.hpp"

namespace idpath::journal {

/// The entry for `u`, just applied to `table` (so create/update carry the record's values as
/// the table now holds them). txn_id is left for Journal::append.
Entry entry_for(const table::Table& table, const table::Update& u, std::int64_t date_ms);

/// Applies `e` to `table`; an error when its values do not decode or encode (a journal that
/// passed its checksums but not the table's limits).
Result<void, std::string> replay_entry(table::Table& table, const Entry& e, table::Retired& retired);

} // namespace idpath::journal
