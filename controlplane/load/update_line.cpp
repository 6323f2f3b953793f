#include "controlplane/load/update_line.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "controlplane/load/json_fields.hpp"
#include "controlplane/load/json_line.hpp"
#include "controlplane/load/value_json.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::load {

using nlohmann::json;
using table::UpdateOp;

namespace {

constexpr UpdateOp kOps[] = {UpdateOp::Create,       UpdateOp::Replace,      UpdateOp::Delete, UpdateOp::AddValues,
                             UpdateOp::ModifyValues, UpdateOp::RemoveValues, UpdateOp::Home,   UpdateOp::Unhome};

bool takes_values(UpdateOp op)
{
    return op == UpdateOp::Create || op == UpdateOp::Replace || op == UpdateOp::AddValues ||
           op == UpdateOp::ModifyValues;
}

bool is_prefix_op(UpdateOp op) { return op == UpdateOp::Home || op == UpdateOp::Unhome; }

std::optional<UpdateOp> read_op(const json& v, FieldErrors& errors)
{
    if (v.is_string())
        for (const UpdateOp op : kOps)
            if (v.get_ref<const std::string&>() == table::to_string(op))
                return op;
    std::string names;
    for (const UpdateOp op : kOps)
        names += (names.empty() ? "" : ", ") + std::string(table::to_string(op));
    errors.push_back({"op", "must be one of " + names});
    return std::nullopt;
}

void read_values(const json& list, std::uint32_t default_timestamp, table::Update& u, FieldErrors& errors)
{
    if (!list.is_array() || list.empty() || list.size() > wire::kMaxValues) {
        errors.push_back({"values", "must be an array of 1.." + std::to_string(wire::kMaxValues) + " values"});
        return;
    }
    for (std::size_t i = 0; i < list.size(); ++i)
        if (auto v = parse_value_json(list[i], index_path("values", i), default_timestamp, errors))
            u.values.push_back(std::move(*v));
}

void read_indexes(const json& list, table::Update& u, FieldErrors& errors)
{
    if (!list.is_array() || list.empty() || list.size() > wire::kMaxValues) {
        errors.push_back({"indexes", "must be an array of 1.." + std::to_string(wire::kMaxValues) + " indexes"});
        return;
    }
    for (std::size_t i = 0; i < list.size(); ++i)
        if (auto n = read_unsigned(list[i], index_path("indexes", i), UINT32_MAX, errors))
            u.indexes.push_back(static_cast<std::uint32_t>(*n));
}

} // namespace

Result<table::Update, std::string> parse_update_line(std::string_view line, std::uint32_t default_timestamp)
{
    auto doc = parse_json_line(line);
    if (!doc)
        return Err{std::move(doc.error())};
    FieldErrors errors;
    ObjectFields f(*doc, "", errors);
    table::Update u;
    const json* op_field = f.required("op");
    const auto op = op_field ? read_op(*op_field, errors) : std::nullopt;
    if (op) {
        u.op = *op;
        if (is_prefix_op(*op)) {
            if (const json* p = f.required("prefix"))
                if (auto prefix = read_handle(*p, "prefix", errors)) {
                    if (prefix->find('/') != std::string::npos)
                        errors.push_back({"prefix", "\"" + *prefix + "\" is a handle, not a prefix"});
                    u.handle = std::move(*prefix);
                }
        } else if (const json* h = f.required("handle")) {
            if (auto handle = read_record_handle(*h, "handle", errors))
                u.handle = std::move(*handle);
        }
        if (takes_values(*op)) {
            if (const json* list = f.required("values"))
                read_values(*list, default_timestamp, u, errors);
        } else if (*op == UpdateOp::RemoveValues) {
            if (const json* list = f.required("indexes"))
                read_indexes(*list, u, errors);
        }
    }
    f.report_unknown();
    if (errors.empty() && takes_values(u.op))
        check_record_values(u.handle, u.values, errors);
    if (!errors.empty())
        return Err{join_errors(errors)};
    return u;
}

Result<UpdateFile, std::vector<LoadError>> read_update_file(const std::filesystem::path& file,
                                                            std::uint32_t default_timestamp)
{
    std::vector<LoadError> errors;
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
        return Err{std::vector<LoadError>{{file, 0, "is a directory, not a JSON-lines file"}}};
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return Err{std::vector<LoadError>{{file, 0, std::string("cannot open: ") + std::strerror(errno)}}};
    UpdateFile out;
    std::string line;
    std::size_t number = 0;
    std::size_t dropped = 0;
    while (std::getline(in, line)) {
        ++number;
        if (number == 1 && line.starts_with("\xEF\xBB\xBF"))
            line.erase(0, 3);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#')
            continue;
        auto u = parse_update_line(line, default_timestamp);
        if (u) {
            out.updates.push_back(std::move(*u));
            out.lines.push_back(number);
        }
        else if (errors.size() < kMaxReportedErrors)
            errors.push_back({file, number, std::move(u.error())});
        else
            ++dropped;
    }
    if (in.bad())
        errors.push_back({file, number, std::string("read error: ") + std::strerror(errno)});
    if (dropped)
        errors.push_back({{}, 0, "... " + std::to_string(dropped) + " more errors"});
    if (!errors.empty())
        return Err{std::move(errors)};
    return out;
}

} // namespace idpath::load
