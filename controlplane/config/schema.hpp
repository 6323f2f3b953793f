#pragma once
/// The declarative config schema: one KeySpec per key, in the style of Knot's yp_item_t. The
/// table drives validation (config_walk.cpp), the comparison of two configs on reload, and the
/// key reference in docs/configuration.md; adding a key is adding a row.
/// Thread-safety: the table is immutable; any thread.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "controlplane/config/config.hpp"

namespace idpath::config {

/// How a key's YAML value is read.
enum class ValueKind : std::uint8_t {
    String,       // a scalar; min..max is its length in octets
    Unsigned,     // a plain decimal scalar in min..max
    EndpointList, // a sequence of "a.b.c.d[:port]" / "[v6][:port]"; min..max entries
    PrefixList,   // a sequence of handle prefixes; min..max entries
    FileList,     // a sequence of readable files, relative to the config's directory
    Site,         // the structured HS_SITE mapping (controlplane/load/site_json.hpp)
    StringList,   // a sequence of strings, each passed through check; min..max entries
    Boolean,      // true or false
};

enum class Reload : std::uint8_t {
    Reloadable, // applied by SIGHUP / idpathctl reload
    InitOnly,   // a change needs a restart; a reload that changes it fails saying so
};

static_assert(std::is_same_v<unsigned, std::uint32_t>,
              "Config's unsigned fields are read as uint32");

/// Where a key's value lives in Config.
using StringField = std::string& (*)(Config&);
using UnsignedField = std::uint32_t& (*)(Config&);
using EndpointsField = std::vector<socket::Endpoint>& (*)(Config&);
using StringsField = std::vector<std::string>& (*)(Config&);
using PathsField = std::vector<std::filesystem::path>& (*)(Config&);
using SiteField = Config::Site& (*)(Config&);
using BoolField = bool& (*)(Config&);
using Field = std::variant<StringField, UnsignedField, EndpointsField, StringsField, PathsField,
                           SiteField, BoolField>;

/// Extra check of one string (a String value or one list item): empty when fine, else why not.
using StringCheck = std::string (*)(std::string_view);

struct KeySpec {
    std::string_view path; // "service.udp_threads"
    ValueKind kind;
    std::uint64_t min = 0; // meaning depends on kind (see ValueKind)
    std::uint64_t max = 0;
    bool required = false;
    Reload reload = Reload::Reloadable;
    std::string_view type_text;    // for docs: "string", "list of endpoints", ...
    std::string_view default_text; // for docs, as YAML; Config's initialisers are the defaults
    std::string_view description;
    Field field;
    StringCheck check = nullptr;
};

/// Every key, in documentation order.
std::span<const KeySpec> schema();
/// The spec of a dotted key path, or nullptr.
const KeySpec* find_key(std::string_view path);
/// True when `path` is a section: a proper prefix of some key path ("service").
bool is_section(std::string_view path);

} // namespace idpath::config
