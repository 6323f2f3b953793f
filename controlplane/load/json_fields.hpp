#pragma once
/// Strict readers for fields of parsed JSON (nlohmann::json), shared by the identifier-line
/// parser and the HS_SITE parser (docs/data-format.md).
///
/// Every reader checks the JSON type and range itself and never throws: a wrong field appends a
/// FieldError naming its path ("values[2].ttl") and the reader returns std::nullopt. Callers keep
/// going after an error so one pass reports every problem of a record.
/// Thread-safety: pure functions over caller-owned data; any thread. Control plane only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataplane/wire/value.hpp"

namespace idpath::load {

/// One problem in a JSON document: where (a path such as "servers[0].address") and why.
struct FieldError {
    std::string path;
    std::string reason;

    /// "path: reason", or just the reason when the path is empty.
    std::string to_string() const;
};

using FieldErrors = std::vector<FieldError>;

/// "parent.key", or "key" when parent is empty.
std::string join_path(std::string_view parent, std::string_view key);
/// "parent[i]".
std::string index_path(std::string_view parent, std::size_t i);

/// An unsigned integer in 0..max. Rejects floats, negatives, strings and booleans.
std::optional<std::uint64_t> read_unsigned(const nlohmann::json& v, const std::string& path,
                                           std::uint64_t max, FieldErrors& errors);
/// A string of min_length..max_length octets (nlohmann has already checked it is UTF-8).
std::optional<std::string> read_string(const nlohmann::json& v, const std::string& path,
                                       std::size_t min_length, std::size_t max_length,
                                       FieldErrors& errors);
std::optional<bool> read_bool(const nlohmann::json& v, const std::string& path,
                              FieldErrors& errors);
/// Hex text ("0a1B...", even length, no separators) decoded to at most max_bytes octets.
std::optional<std::vector<std::uint8_t>> read_hex(const nlohmann::json& v, const std::string& path,
                                                  std::size_t max_bytes, FieldErrors& errors);
/// A handle as a value field carries it: 1..kMaxHandleLength octets, no control characters.
std::optional<std::string> read_handle(const nlohmann::json& v, const std::string& path,
                                       FieldErrors& errors);
/// {"handle": "...", "index": n}: a value reference (refs, HS_VLIST entries).
std::optional<wire::Reference> read_reference(const nlohmann::json& v, const std::string& path,
                                              FieldErrors& errors);
/// An array of references, at most max_entries long.
std::optional<std::vector<wire::Reference>> read_references(const nlohmann::json& v,
                                                            const std::string& path,
                                                            std::size_t max_entries,
                                                            FieldErrors& errors);

/// Empty when `s` is an acceptable handle, else why not (too long, control character).
std::string handle_problem(std::string_view s);

/// The fields of one JSON object, read by name. Remembers which names were read so that
/// report_unknown() can reject every other field. Holds references: `object` and `errors` must
/// outlive it.
class ObjectFields {
public:
    /// Adds "must be an object" when `object` is not one; then every lookup returns nullptr.
    ObjectFields(const nlohmann::json& object, std::string path, FieldErrors& errors);

    bool is_object() const noexcept { return object_ != nullptr; }
    const std::string& path() const noexcept { return path_; }
    /// The field, or nullptr when absent.
    const nlohmann::json* optional(std::string_view name);
    /// The field, or nullptr after adding "missing field" for it.
    const nlohmann::json* required(std::string_view name);
    /// The path of a field of this object.
    std::string field_path(std::string_view name) const { return join_path(path_, name); }
    /// Adds "unknown field" for each field neither optional() nor required() asked for.
    void report_unknown();

private:
    const nlohmann::json* object_ = nullptr;
    std::string path_;
    FieldErrors& errors_;
    std::vector<std::string_view> read_;
};

} // namespace idpath::load
