#include "dataplane/table/update.hpp"

#include <algorithm>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/table/handle_key.hpp"

namespace idpath::table {
namespace {

/// The values of a record, decoded (they were encoded by encode_record, so they decode).
std::vector<wire::HandleValue> values_of(const RecordView& rec)
{
    std::vector<wire::HandleValue> out;
    out.reserve(rec.values.size());
    for (const ValueEntry& e : rec.values) {
        ByteReader r(rec.encoded.subspan(e.offset, e.length));
        if (auto v = wire::decode_value(r))
            out.push_back(wire::to_owned(*v));
    }
    return out;
}

bool has_index(const std::vector<wire::HandleValue>& values, std::uint32_t index)
{
    return std::any_of(values.begin(), values.end(), [index](const auto& v) { return v.index == index; });
}

UpdateOutcome put(Table& table, std::string_view handle, std::vector<wire::HandleValue> values, Retired& retired)
{
    if (values.empty())
        return UpdateOutcome::Invalid;
    auto rec = encode_record(handle, std::move(values));
    if (!rec)
        return UpdateOutcome::Invalid;
    table.upsert(*rec, retired);
    return UpdateOutcome::Applied;
}

bool homed_for(const Table& table, std::string_view handle)
{
    const std::string prefix = normalize(prefix_of(handle));
    return prefix == "0.NA" || table.homes(prefix);
}

} // namespace

std::string_view prefix_of(std::string_view handle) noexcept
{
    return handle.substr(0, handle.find('/'));
}

std::string_view to_string(UpdateOp op) noexcept
{
    switch (op) {
    case UpdateOp::Create:
        return "create";
    case UpdateOp::Replace:
        return "replace";
    case UpdateOp::Delete:
        return "delete";
    case UpdateOp::AddValues:
        return "add_values";
    case UpdateOp::ModifyValues:
        return "modify_values";
    case UpdateOp::RemoveValues:
        return "remove_values";
    case UpdateOp::Home:
        return "home";
    case UpdateOp::Unhome:
        return "unhome";
    }
    return "?";
}

std::string_view to_string(UpdateOutcome o) noexcept
{
    switch (o) {
    case UpdateOutcome::Applied:
        return "applied";
    case UpdateOutcome::HandleExists:
        return "handle_exists";
    case UpdateOutcome::HandleNotFound:
        return "handle_not_found";
    case UpdateOutcome::ValueExists:
        return "value_exists";
    case UpdateOutcome::ValueNotFound:
        return "value_not_found";
    case UpdateOutcome::NotHomed:
        return "not_homed";
    case UpdateOutcome::Invalid:
        return "invalid";
    }
    return "?";
}

UpdateOutcome apply_update(Table& table, const Update& u, Retired& retired)
{
    const std::string key = normalize(u.handle);
    switch (u.op) {
    case UpdateOp::Home:
        table.home(key, retired);
        return UpdateOutcome::Applied;
    case UpdateOp::Unhome:
        table.unhome(key, retired);
        return UpdateOutcome::Applied;
    case UpdateOp::Delete:
        return table.erase(key, retired) ? UpdateOutcome::Applied : UpdateOutcome::HandleNotFound;
    case UpdateOp::Create:
    case UpdateOp::Replace:
        if (!homed_for(table, key))
            return UpdateOutcome::NotHomed;
        if (u.op == UpdateOp::Create && table.find(key))
            return UpdateOutcome::HandleExists;
        return put(table, key, u.values, retired);
    case UpdateOp::AddValues:
    case UpdateOp::ModifyValues:
    case UpdateOp::RemoveValues:
        break;
    }

    const auto rec = table.find(key);
    if (!rec)
        return UpdateOutcome::HandleNotFound;
    std::vector<wire::HandleValue> values = values_of(*rec);
    if (u.op == UpdateOp::AddValues) {
        for (const auto& v : u.values)
            if (has_index(values, v.index))
                return UpdateOutcome::ValueExists;
        values.insert(values.end(), u.values.begin(), u.values.end());
    } else if (u.op == UpdateOp::ModifyValues) {
        for (const auto& v : u.values) {
            const auto it = std::find_if(values.begin(), values.end(), [&](const auto& w) { return w.index == v.index; });
            if (it == values.end())
                return UpdateOutcome::ValueNotFound;
            *it = v;
        }
    } else {
        for (const std::uint32_t i : u.indexes)
            if (!has_index(values, i))
                return UpdateOutcome::ValueNotFound;
        std::erase_if(values, [&](const auto& v) {
            return std::find(u.indexes.begin(), u.indexes.end(), v.index) != u.indexes.end();
        });
    }
    return put(table, key, std::move(values), retired);
}

} // namespace idpath::table
