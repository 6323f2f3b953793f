#include "controlplane/load/json_line.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/load/jsonl_loader.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::load {

using nlohmann::json;

namespace {

// A line reports at most this many problems; one broken export can otherwise yield megabytes.
constexpr std::size_t kMaxReasonsPerLine = 5;
// Room a resolution response needs besides the values: header, handle String, value count,
// credential length, and a request-digest prefix (hash type + SHA-256).
constexpr std::size_t kResponseOverhead = wire::kHeaderSize + 4 + 4 + 4 + 1 + 32;

// nlohmann keeps the last of two equal keys silently; a strict import must reject them. The
// parser callback sees object starts and keys with their depth, enough to track the keys of
// every open object.
class DuplicateKeyCheck {
public:
    bool operator()(int depth, json::parse_event_t event, json& parsed)
    {
        const auto d = static_cast<std::size_t>(depth);
        if (event == json::parse_event_t::object_start) {
            if (open_.size() < d + 2)
                open_.resize(d + 2);
            open_[d + 1].clear();
        } else if (event == json::parse_event_t::key && d < open_.size() && parsed.is_string()) {
            auto& keys = open_[d];
            const auto& key = parsed.get_ref<const std::string&>();
            if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
                if (duplicate_.empty())
                    duplicate_ = key;
            } else {
                keys.push_back(key);
            }
        }
        return true;
    }
    const std::string& duplicate() const noexcept { return duplicate_; }

private:
    std::vector<std::vector<std::string>> open_;
    std::string duplicate_;
};

// Only asked after a failed parse, to say where and why (the fast path parses once, without
// exceptions, and gets no message).
struct SyntaxErrorProbe : json::json_sax_t {
    std::string message;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& ex) override
    {
        std::string what = ex.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
        const auto colon = what.find(": ");
        message = "invalid JSON at byte " + std::to_string(position) + ": " +
                  (colon == std::string::npos ? what : what.substr(colon + 2));
        return false;
    }
};

std::string syntax_error(std::string_view line)
{
    SyntaxErrorProbe probe;
    json::sax_parse(line, &probe, json::input_format_t::json, true, false);
    return probe.message.empty() ? "invalid JSON" : probe.message;
}

void check_indexes_of(const std::vector<wire::HandleValue>& values, FieldErrors& errors)
{
    std::vector<std::pair<std::uint32_t, std::size_t>> seen; // index, position
    seen.reserve(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
        seen.emplace_back(values[i].index, i);
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 1; i < seen.size(); ++i)
        if (seen[i].first == seen[i - 1].first)
            errors.push_back({index_path("values", seen[i].second) + ".index",
                              "index " + std::to_string(seen[i].first) +
                                  " is also used by values[" + std::to_string(seen[i - 1].second) +
                                  "]"});
}

void check_size_of(std::string_view handle, const std::vector<wire::HandleValue>& values,
                FieldErrors& errors)
{
    std::size_t total = kResponseOverhead + handle.size();
    for (const auto& v : values)
        total += wire::encoded_size(v);
    if (total > wire::kMaxMessageLength)
        errors.push_back(
            {"values", "encode to " + std::to_string(total) +
                           " octets with the response around them, more than the protocol's " +
                           std::to_string(wire::kMaxMessageLength) + "-octet message limit"});
}

} // namespace

std::string join_errors(const FieldErrors& errors)
{
    std::string s;
    for (std::size_t i = 0; i < errors.size() && i < kMaxReasonsPerLine; ++i)
        s += (i ? "; " : "") + errors[i].to_string();
    if (errors.size() > kMaxReasonsPerLine)
        s += "; and " + std::to_string(errors.size() - kMaxReasonsPerLine) + " more problems";
    return s;
}

std::optional<std::string> read_record_handle(const json& v, const std::string& path,
                                              FieldErrors& errors)
{
    auto handle = read_handle(v, path, errors);
    if (!handle)
        return std::nullopt;
    // Handle = prefix "/" suffix (RFC 3650 section 3); prefix handles are "0.NA/<prefix>".
    const auto slash = handle->find('/');
    if (slash == std::string::npos) {
        errors.push_back({path, "\"" + *handle +
                                    "\" has no '/' (write <prefix>/<suffix>; a prefix "
                                    "handle is 0.NA/<prefix>)"});
        return std::nullopt;
    }
    if (slash == 0 || slash + 1 == handle->size()) {
        errors.push_back({path, "\"" + *handle + "\" has an empty prefix or suffix"});
        return std::nullopt;
    }
    return handle;
}



void check_record_values(std::string_view handle, const std::vector<wire::HandleValue>& values, FieldErrors& errors)
{
    check_indexes_of(values, errors);
    if (errors.empty())
        check_size_of(handle, values, errors);
}

Result<json, std::string> parse_json_line(std::string_view line)
{
    if (line.size() > kMaxLineBytes)
        return Err{"line is " + std::to_string(line.size()) + " octets, more than the limit of " +
                   std::to_string(kMaxLineBytes)};
    DuplicateKeyCheck duplicates;
    json doc = json::parse(line, std::ref(duplicates), /*allow_exceptions=*/false);
    if (doc.is_discarded())
        return Err{syntax_error(line)};
    if (!duplicates.duplicate().empty())
        return Err{"key \"" + duplicates.duplicate() + "\" appears twice in one object"};
    return doc;
}

} // namespace idpath::load
