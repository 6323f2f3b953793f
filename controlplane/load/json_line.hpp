#pragma once
/// What every JSON-lines format here shares (docs/data-format.md): the strict parse of one line
/// and the checks of a handle's record, used by the identifier lines and the update lines.
/// Thread-safety: pure; any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/load/json_fields.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::load {

/// One line (without its newline) as a JSON document: at most kMaxLineBytes, valid JSON (the
/// error says where it is not), no key twice in one object (nlohmann would keep the last).
Result<nlohmann::json, std::string> parse_json_line(std::string_view line);

/// A record's handle: <prefix>/<suffix>, both non-empty, no control characters.
std::optional<std::string> read_record_handle(const nlohmann::json& v, const std::string& path, FieldErrors& errors);

/// A record's values: indexes unique, and all of them encoded fit one response message.
void check_record_values(std::string_view handle, const std::vector<wire::HandleValue>& values, FieldErrors& errors);

/// The first few errors joined by "; ", with a count of the rest.
std::string join_errors(const FieldErrors& errors);

} // namespace idpath::load
