#pragma once
/// The schema pass: walks a parsed YAML document against the schema (schema.hpp) and fills a
/// Config, collecting every error. Internal to controlplane/config.

#include <filesystem>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "controlplane/config/config_values.hpp"

namespace idpath::config {

/// Builds the Config of `root` (a YAML document; null means empty) into cx.config, appending
/// every error to cx.errors; the config is usable only when there are none. `file` names the
/// file in errors and its directory anchors relative paths. May throw YAML::Exception:
/// parse_config() catches it.
void build_config(const YAML::Node& root, const std::filesystem::path& file, WalkContext& cx);

} // namespace idpath::config
