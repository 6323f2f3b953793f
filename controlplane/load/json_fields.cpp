#include "controlplane/load/json_fields.hpp"

#include <algorithm>

#include "dataplane/wire/constants.hpp"

namespace idpath::load {

using nlohmann::json;

std::string FieldError::to_string() const
{
    return path.empty() ? reason : path + ": " + reason;
}

std::string join_path(std::string_view parent, std::string_view key)
{
    std::string p(parent);
    if (!p.empty())
        p += '.';
    p += key;
    return p;
}

std::string index_path(std::string_view parent, std::size_t i)
{
    return std::string(parent) + "[" + std::to_string(i) + "]";
}

namespace {

const char* type_name(const json& v)
{
    switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number with a fraction";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
    }
    return "?";
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

std::optional<std::uint64_t> read_unsigned(const json& v, const std::string& path,
                                           std::uint64_t max, FieldErrors& errors)
{
    const std::string range = "an integer 0.." + std::to_string(max);
    if (v.is_number_integer()) {
        // nlohmann keeps non-negative literals unsigned, except "-0", which is signed zero.
        const bool negative = !v.is_number_unsigned() && v.get<std::int64_t>() < 0;
        const auto n = negative ? 0 : v.get<std::uint64_t>();
        if (!negative && n <= max)
            return n;
        const std::string got = negative ? std::to_string(v.get<std::int64_t>()) : std::to_string(n);
        errors.push_back({path, "must be " + range + ", got " + got});
        return std::nullopt;
    }
    errors.push_back({path, "must be " + range + ", got " + type_name(v)});
    return std::nullopt;
}

std::optional<std::string> read_string(const json& v, const std::string& path,
                                       std::size_t min_length, std::size_t max_length,
                                       FieldErrors& errors)
{
    if (!v.is_string()) {
        errors.push_back({path, std::string("must be a string, got ") + type_name(v)});
        return std::nullopt;
    }
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() < min_length) {
        errors.push_back(
            {path, min_length == 1 ? std::string("must not be empty")
                                   : "must be at least " + std::to_string(min_length) + " octets"});
        return std::nullopt;
    }
    if (s.size() > max_length) {
        errors.push_back({path, "is " + std::to_string(s.size()) +
                                    " octets, more than the limit of " +
                                    std::to_string(max_length)});
        return std::nullopt;
    }
    return s;
}

std::optional<bool> read_bool(const json& v, const std::string& path, FieldErrors& errors)
{
    if (v.is_boolean())
        return v.get<bool>();
    errors.push_back({path, std::string("must be true or false, got ") + type_name(v)});
    return std::nullopt;
}

std::optional<std::vector<std::uint8_t>> read_hex(const json& v, const std::string& path,
                                                  std::size_t max_bytes, FieldErrors& errors)
{
    if (!v.is_string()) {
        errors.push_back({path, std::string("must be a hex string, got ") + type_name(v)});
        return std::nullopt;
    }
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() % 2 != 0) {
        errors.push_back({path, "hex string has an odd number of digits"});
        return std::nullopt;
    }
    if (s.size() / 2 > max_bytes) {
        errors.push_back({path, "decodes to " + std::to_string(s.size() / 2) +
                                    " octets, more than the limit of " +
                                    std::to_string(max_bytes)});
        return std::nullopt;
    }
    std::vector<std::uint8_t> out(s.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_digit(s[2 * i]);
        const int lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            errors.push_back(
                {path, "not a hex digit at offset " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1)});
            return std::nullopt;
        }
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return out;
}

std::string handle_problem(std::string_view s)
{
    if (s.empty())
        return "must not be empty";
    if (s.size() > wire::kMaxHandleLength)
        return "is " + std::to_string(s.size()) + " octets, more than the limit of " +
               std::to_string(wire::kMaxHandleLength);
    // Control characters would corrupt logs and terminals; HANDLE.NET has no use for them either.
    const auto bad = std::find_if(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (bad != s.end())
        return "contains a control character at offset " + std::to_string(bad - s.begin());
    return {};
}

std::optional<std::string> read_handle(const json& v, const std::string& path, FieldErrors& errors)
{
    if (!v.is_string()) {
        errors.push_back({path, std::string("must be a string, got ") + type_name(v)});
        return std::nullopt;
    }
    const auto& s = v.get_ref<const std::string&>();
    if (std::string why = handle_problem(s); !why.empty()) {
        errors.push_back({path, std::move(why)});
        return std::nullopt;
    }
    return s;
}

std::optional<wire::Reference> read_reference(const json& v, const std::string& path,
                                              FieldErrors& errors)
{
    ObjectFields f(v, path, errors);
    if (!f.is_object())
        return std::nullopt;
    std::optional<std::string> handle;
    std::optional<std::uint64_t> index;
    if (const json* h = f.required("handle"))
        handle = read_handle(*h, f.field_path("handle"), errors);
    if (const json* i = f.required("index"))
        index = read_unsigned(*i, f.field_path("index"), UINT32_MAX, errors);
    f.report_unknown();
    if (!handle || !index)
        return std::nullopt;
    return wire::Reference{std::move(*handle), static_cast<std::uint32_t>(*index)};
}

std::optional<std::vector<wire::Reference>> read_references(const json& v, const std::string& path,
                                                            std::size_t max_entries,
                                                            FieldErrors& errors)
{
    if (!v.is_array()) {
        errors.push_back({path, std::string("must be an array, got ") + type_name(v)});
        return std::nullopt;
    }
    if (v.size() > max_entries) {
        errors.push_back({path, "has " + std::to_string(v.size()) +
                                    " entries, more than the limit of " +
                                    std::to_string(max_entries)});
        return std::nullopt;
    }
    std::vector<wire::Reference> refs;
    refs.reserve(v.size());
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto r = read_reference(v[i], index_path(path, i), errors);
        if (r)
            refs.push_back(std::move(*r));
        else
            ok = false;
    }
    if (!ok)
        return std::nullopt;
    return refs;
}

ObjectFields::ObjectFields(const json& object, std::string path, FieldErrors& errors)
    : path_(std::move(path)), errors_(errors)
{
    if (object.is_object())
        object_ = &object;
    else
        errors_.push_back({path_, std::string("must be an object, got ") + type_name(object)});
}

const json* ObjectFields::optional(std::string_view name)
{
    if (!object_)
        return nullptr;
    read_.push_back(name);
    const auto it = object_->find(name);
    return it == object_->end() ? nullptr : &*it;
}

const json* ObjectFields::required(std::string_view name)
{
    if (!object_)
        return nullptr;
    const json* v = optional(name);
    if (!v)
        errors_.push_back({field_path(name), "missing field"});
    return v;
}

void ObjectFields::report_unknown()
{
    if (!object_)
        return;
    for (const auto& [name, value] : object_->items()) {
        if (std::find(read_.begin(), read_.end(), name) != read_.end())
            continue;
        std::string known;
        for (std::string_view k : read_)
            known += (known.empty() ? "" : ", ") + std::string(k);
        errors_.push_back({field_path(name), "unknown field (known: " + known + ")"});
    }
}

} // namespace idpath::load
