#pragma once
/// The structured HS_SITE form, shared by the identifier file (a value's "site" field) and the
/// config file (the `site` section, converted from YAML): the one parser of it.
///
/// ```json
/// {"serial": 1, "primary": true, "multi_primary": false, "hash": "handle",
///  "attributes": {"desc": "idpath node"},
///  "servers": [{"id": 1, "address": "192.0.2.10", "public_key_hex": "",
///               "interfaces": [{"type": "query", "protocol": "udp", "port": 2641}]}]}
/// ```
/// Field by field in docs/data-format.md ("HS_SITE values"). Thread-safety: pure; any thread.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/load/json_fields.hpp"
#include "dataplane/wire/site_info.hpp"

namespace idpath::load {

/// Parses the structured form. Every problem is appended to `errors` (not just the first), with
/// a path under `path` ("site.servers[0].port"); std::nullopt when there was any. Unknown
/// fields are errors.
std::optional<wire::SiteInfo> parse_site_json(const nlohmann::json& site, const std::string& path,
                                              FieldErrors& errors);

} // namespace idpath::load
