#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/load/identifier_line.hpp"
#include "controlplane/load/json_fields.hpp"
#include "controlplane/load/json_line.hpp"
#include "controlplane/load/value_json.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::load {

using nlohmann::json;

bool parse_identifier_line_into(std::string_view line, std::uint32_t default_timestamp,
                                IdentifierRecord& record, std::string& error)
{
    record.handle.clear();
    record.values.clear();
    auto parsed = parse_json_line(line);
    if (!parsed) {
        error = std::move(parsed.error());
        return false;
    }
    const json& doc = *parsed;

    FieldErrors errors;
    ObjectFields f(doc, "", errors);
    if (const json* h = f.required("handle"))
        if (auto handle = read_record_handle(*h, "handle", errors))
            record.handle = std::move(*handle);
    if (const json* list = f.required("values")) {
        if (!list->is_array() || list->empty() || list->size() > wire::kMaxValues) {
            errors.push_back({"values", "must be an array of 1.." +
                                            std::to_string(wire::kMaxValues) + " values"});
        } else {
            record.values.reserve(list->size());
            for (std::size_t i = 0; i < list->size(); ++i)
                if (auto v = parse_value_json((*list)[i], index_path("values", i),
                                              default_timestamp, errors))
                    record.values.push_back(std::move(*v));
        }
    }
    f.report_unknown();
    if (errors.empty())
        check_record_values(record.handle, record.values, errors);
    if (!errors.empty()) {
        error = join_errors(errors);
        return false;
    }
    return true;
}

Result<IdentifierRecord, std::string> parse_identifier_line(std::string_view line,
                                                            std::uint32_t default_timestamp)
{
    IdentifierRecord record;
    std::string error;
    if (!parse_identifier_line_into(line, default_timestamp, record, error))
        return Err{std::move(error)};
    return record;
}

} // namespace idpath::load
