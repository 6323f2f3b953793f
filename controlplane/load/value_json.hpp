#pragma once
/// One handle value in the JSON-lines identifier format (docs/data-format.md, "Values"):
///
/// ```json
/// {"index": 1, "type": "URL", "data": "https://example.org/a",
///  "ttl": 86400, "ttl_type": "relative", "timestamp": 1700000000, "permissions": "rwr-",
///  "refs": [{"handle": "88.100.1/x", "index": 1}]}
/// ```
/// with exactly one data field among "data" (UTF-8 text), "data_hex" (bytes), "site"
/// (structured HS_SITE), "admin" (structured HS_ADMIN) and "vlist" (HS_VLIST entries).
/// Thread-safety: pure; any thread.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/load/json_fields.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::load {

/// Parses one value object. `default_timestamp` fills a missing "timestamp". Every problem is
/// appended to `errors` with a path under `path`; std::nullopt when there was any.
std::optional<wire::HandleValue> parse_value_json(const nlohmann::json& value,
                                                  const std::string& path,
                                                  std::uint32_t default_timestamp,
                                                  FieldErrors& errors);

/// Parses "rwr-": admin read, admin write, public read, public write, each its letter or '-'.
std::optional<std::uint8_t> parse_permissions(std::string_view text);

} // namespace idpath::load
