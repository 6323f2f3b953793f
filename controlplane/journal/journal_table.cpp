#include "controlplane/journal/journal_table.hpp"

#include <vector>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::journal {

namespace {

Action action_of(table::UpdateOp op) noexcept
{
    switch (op) {
    case table::UpdateOp::Create: return Action::Create;
    case table::UpdateOp::Delete: return Action::Delete;
    case table::UpdateOp::Home: return Action::Home;
    case table::UpdateOp::Unhome: return Action::Unhome;
    case table::UpdateOp::Replace:
    case table::UpdateOp::AddValues:
    case table::UpdateOp::ModifyValues:
    case table::UpdateOp::RemoveValues: break;
    }
    return Action::Update;
}

} // namespace

Entry entry_for(const table::Table& table, const table::Update& u, std::int64_t date_ms)
{
    Entry e;
    e.date_ms = date_ms;
    e.action = action_of(u.op);
    e.handle = table::normalize(u.handle);
    if (e.action == Action::Create || e.action == Action::Update) {
        if (const auto rec = table.find(e.handle)) {
            e.value_count = static_cast<std::uint32_t>(rec->values.size());
            e.values.assign(rec->encoded.begin(), rec->encoded.end());
        }
    }
    return e;
}

Result<void, std::string> replay_entry(table::Table& table, const Entry& e, table::Retired& retired)
{
    switch (e.action) {
    case Action::Delete:
        (void)table.erase(e.handle, retired); // already gone: the snapshot had it
        return {};
    case Action::Home:
        table.home(e.handle, retired);
        return {};
    case Action::Unhome:
        table.unhome(e.handle, retired);
        return {};
    case Action::Create:
    case Action::Update: break;
    }
    const auto where = "txn " + std::to_string(e.txn_id) + " (" + e.handle + "): ";
    auto values = wire::decode_values(e.values, e.value_count);
    if (!values)
        return Err(where + "values do not decode: " + wire::to_string(values.error()));
    auto rec = table::encode_record(e.handle, std::move(*values));
    if (!rec)
        return Err(where + std::string(table::to_string(rec.error())));
    table.upsert(*rec, retired);
    return {};
}

} // namespace idpath::journal
