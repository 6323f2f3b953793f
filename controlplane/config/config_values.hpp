#pragma once
/// Typed readers for one schema key's YAML value (strings, integers, lists, the site mapping).
/// Internal to controlplane/config; used by the schema pass (config_walk.cpp).

#include <filesystem>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "controlplane/config/config.hpp"
#include "controlplane/config/schema.hpp"

namespace idpath::config {

/// What a pass over one document builds: the config so far and every error so far.
struct WalkContext {
    std::string file;               // names the file in errors
    std::filesystem::path base_dir; // anchors relative data.identifier_files
    Config config;
    std::vector<ConfigError> errors;

    /// Records an error at a YAML position (a null mark gives line and column 0).
    void error(const YAML::Mark& at, std::string key, std::string reason);
};

/// Reads `value` as `spec` says and stores it in cx.config, or records why it cannot.
/// An invalid value leaves the field at its default and always records an error, so the
/// caller never returns a Config built from it. `key_mark` places "missing value" errors.
/// May throw YAML::Exception.
void read_value(const KeySpec& spec, const YAML::Node& value, const std::string& path,
                const YAML::Mark& key_mark, WalkContext& cx);

} // namespace idpath::config
