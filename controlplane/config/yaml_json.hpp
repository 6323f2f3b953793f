#pragma once
/// Converts a YAML subtree to JSON so that the config's `site` section goes through the same
/// parser as an identifier file's "site" value (controlplane/load/site_json.hpp), while keeping
/// the YAML position of every node for error messages.
/// Internal to controlplane/config. Thread-safety: pure; any thread.

#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "controlplane/load/json_fields.hpp"

namespace idpath::config {

struct YamlJson {
    nlohmann::json value;
    /// The YAML position of the node at each path ("site.servers[0].port"), for errors.
    std::unordered_map<std::string, YAML::Mark> marks;
};

/// Plain scalars that look like decimal integers become JSON integers and true/false become
/// booleans; quoted scalars stay strings. Stops with one error on a non-scalar or duplicate
/// mapping key, on nesting deeper than 32 and on more than 10,000 nodes (aliases can otherwise
/// make a small file expand without bound, or loop); the marks gathered so far are still
/// returned so the error can be placed. Never throws.
YamlJson yaml_to_json(const YAML::Node& node, const std::string& path, load::FieldErrors& errors);

} // namespace idpath::config
