#pragma once
/// Changes to a serving table, one handle at a time, with the Handle System's meanings
/// (RFC 3652 CREATE_HANDLE, DELETE_HANDLE, ADD_VALUE, MODIFY_VALUE, REMOVE_VALUE), plus a
/// whole-record replace (what replication and imports send) and prefix homing. Each change
/// applies wholly or not at all, through Table's writer: a reader sees a handle's old record or
/// its new one, never a mix, and never waits.
///
/// Writer thread only (the one that owns the Table's writes). Pure otherwise: no I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/table/table.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::table {

enum class UpdateOp : std::uint8_t {
    Create,       // a new handle with `values`; refused if it exists
    Replace,      // the handle's whole record becomes `values`, created if missing
    Delete,       // the handle and all its values
    AddValues,    // `values` added; refused if any index is taken
    ModifyValues, // the values of `values`' indexes replaced; refused if any index is missing
    RemoveValues, // the values of `indexes` removed; refused if any is missing or none would remain
    Home,         // `handle` is a prefix this node becomes responsible for
    Unhome,       // `handle` is a prefix this node stops being responsible for
};

struct Update {
    UpdateOp op = UpdateOp::Create;
    std::string handle; // as written (normalised here); a prefix for Home and Unhome
    std::vector<wire::HandleValue> values;
    std::vector<std::uint32_t> indexes;
};

enum class UpdateOutcome : std::uint8_t {
    Applied,
    HandleExists,   // Create of a handle that exists
    HandleNotFound, // Delete or a value change of a handle that does not
    ValueExists,    // AddValues with an index the handle already has
    ValueNotFound,  // ModifyValues or RemoveValues of an index the handle lacks
    NotHomed,       // Create or Replace under a prefix this node does not home
    Invalid,        // the resulting record breaks a limit (table::RecordError), or no values remain
};
inline constexpr std::size_t kUpdateOutcomes = 7;

std::string_view to_string(UpdateOp op) noexcept;
std::string_view to_string(UpdateOutcome o) noexcept;

/// Applies `u` to `table`; what readers may still hold goes to `retired` (Table::upsert).
UpdateOutcome apply_update(Table& table, const Update& u, Retired& retired);

/// The prefix of a handle ("88.100.1" of "88.100.1/x"), as written.
std::string_view prefix_of(std::string_view handle) noexcept;

} // namespace idpath::table
