#include "controlplane/config/config_values.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <system_error>
#include <type_traits>

#include "controlplane/config/yaml_json.hpp"
#include "controlplane/load/site_json.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::config {

void WalkContext::error(const YAML::Mark& at, std::string key, std::string reason)
{
    const bool known = at.line >= 0 && at.column >= 0;
    errors.push_back({file, known ? at.line + 1 : 0, known ? at.column + 1 : 0, std::move(key),
                      std::move(reason)});
}

namespace {

std::string in_quotes(std::string_view s)
{
    return "\"" + std::string(s) + "\"";
}

std::string describe(const YAML::Node& n)
{
    switch (n.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: return in_quotes(n.Scalar());
    default: return "nothing";
    }
}

std::optional<std::string> read_scalar_string(const KeySpec& spec, const YAML::Node& v,
                                              const std::string& path, WalkContext& cx)
{
    if (!v.IsScalar()) {
        cx.error(v.Mark(), path, "must be a string, got " + describe(v));
        return std::nullopt;
    }
    const std::string& s = v.Scalar();
    if (s.size() < spec.min || s.size() > spec.max) {
        cx.error(v.Mark(), path,
                 "must be " + std::to_string(spec.min) + ".." + std::to_string(spec.max) +
                     " octets long, got " + std::to_string(s.size()));
        return std::nullopt;
    }
    if (spec.check)
        if (std::string why = spec.check(s); !why.empty()) {
            cx.error(v.Mark(), path, std::move(why));
            return std::nullopt;
        }
    return s;
}

void read_unsigned(const KeySpec& spec, const YAML::Node& v, const std::string& path,
                   WalkContext& cx)
{
    const std::string want =
        "must be an integer " + std::to_string(spec.min) + ".." + std::to_string(spec.max);
    if (!v.IsScalar()) {
        cx.error(v.Mark(), path, want + ", got " + describe(v));
        return;
    }
    const std::string& s = v.Scalar();
    if (v.Tag() == "!") { // quoted: the author wrote a string
        cx.error(v.Mark(), path, want + ", got the quoted string " + in_quotes(s));
        return;
    }
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    const bool digits = !s.empty() && end == s.data() + s.size() && s[0] != '-';
    if (!digits) {
        cx.error(v.Mark(), path, want + ", got " + in_quotes(s));
        return;
    }
    if (ec != std::errc{} || n < spec.min || n > spec.max) {
        cx.error(v.Mark(), path, want + ", got " + s);
        return;
    }
    std::get<UnsignedField>(spec.field)(cx.config) = static_cast<std::uint32_t>(n);
}

// Reads a list of strings, each passed through the spec's check, then through `convert`
// (which records its own errors and returns std::nullopt on failure).
template <class T, class Convert>
std::optional<std::vector<T>> read_list(const KeySpec& spec, const YAML::Node& v,
                                        const std::string& path, WalkContext& cx, Convert convert)
{
    if (!v.IsSequence()) {
        cx.error(v.Mark(), path,
                 "must be a list, got " + describe(v) + " (write [] for an empty list)");
        return std::nullopt;
    }
    if (v.size() < spec.min || v.size() > spec.max) {
        cx.error(v.Mark(), path,
                 "must have " + std::to_string(spec.min) + ".." + std::to_string(spec.max) +
                     " entries, got " + std::to_string(v.size()));
        return std::nullopt;
    }
    std::vector<T> out;
    bool ok = true;
    std::size_t i = 0;
    for (const auto& item : v) {
        const std::string ipath = load::index_path(path, i++);
        if (!item.IsScalar()) {
            cx.error(item.Mark(), ipath, "must be a string, got " + describe(item));
            ok = false;
            continue;
        }
        const std::string& s = item.Scalar();
        if (spec.check)
            if (std::string why = spec.check(s); !why.empty()) {
                cx.error(item.Mark(), ipath, in_quotes(s) + ": " + why);
                ok = false;
                continue;
            }
        if (std::optional<T> t = convert(s, item, ipath, out))
            out.push_back(std::move(*t));
        else
            ok = false;
    }
    if (!ok)
        return std::nullopt;
    return out;
}

void read_endpoints(const KeySpec& spec, const YAML::Node& v, const std::string& path,
                    WalkContext& cx)
{
    auto list = read_list<socket::Endpoint>(
        spec, v, path, cx,
        [&](const std::string& s, const YAML::Node& item, const std::string& ipath,
            const std::vector<socket::Endpoint>& before) -> std::optional<socket::Endpoint> {
            auto e = socket::parse_endpoint(s, wire::kDefaultPort);
            if (!e) {
                cx.error(item.Mark(), ipath,
                         in_quotes(s) + " is not an endpoint: write a.b.c.d[:port] or [v6][:port]");
                return std::nullopt;
            }
            const bool twice = std::any_of(before.begin(), before.end(), [&](const auto& b) {
                return b.to_string() == e->to_string();
            });
            if (twice) {
                cx.error(item.Mark(), ipath, e->to_string() + " is listed twice");
                return std::nullopt;
            }
            return e;
        });
    if (list)
        std::get<EndpointsField>(spec.field)(cx.config) = std::move(*list);
}

void read_prefixes(const KeySpec& spec, const YAML::Node& v, const std::string& path,
                   WalkContext& cx)
{
    auto list = read_list<std::string>(
        spec, v, path, cx,
        [&](const std::string& s, const YAML::Node& item, const std::string& ipath,
            const std::vector<std::string>& before) -> std::optional<std::string> {
            const std::string key = table::normalize(s);
            const bool twice = std::any_of(before.begin(), before.end(), [&](const auto& b) {
                return table::normalize(b) == key;
            });
            if (twice) {
                cx.error(item.Mark(), ipath,
                         in_quotes(s) + " is listed twice (prefixes ignore ASCII case)");
                return std::nullopt;
            }
            return s;
        });
    if (list)
        std::get<StringsField>(spec.field)(cx.config) = std::move(*list);
}

void read_strings(const KeySpec& spec, const YAML::Node& v, const std::string& path,
                  WalkContext& cx)
{
    auto list = read_list<std::string>(
        spec, v, path, cx,
        [&](const std::string& s, const YAML::Node& item, const std::string& ipath,
            const std::vector<std::string>& before) -> std::optional<std::string> {
            if (std::find(before.begin(), before.end(), s) != before.end()) {
                cx.error(item.Mark(), ipath, in_quotes(s) + " is listed twice");
                return std::nullopt;
            }
            return s;
        });
    if (list)
        std::get<StringsField>(spec.field)(cx.config) = std::move(*list);
}

void read_bool(const KeySpec& spec, const YAML::Node& v, const std::string& path,
               WalkContext& cx)
{
    // Only YAML 1.2's two spellings: "yes", "on" and "1" are the classic misreadings.
    if (v.IsScalar() && v.Tag() != "!" && (v.Scalar() == "true" || v.Scalar() == "false")) {
        std::get<BoolField>(spec.field)(cx.config) = v.Scalar() == "true";
        return;
    }
    cx.error(v.Mark(), path, "must be true or false, got " + describe(v));
}

// Empty when `p` is a readable regular file. O_NONBLOCK: opening a FIFO named by mistake must
// not hang the config check.
std::string file_problem(const std::filesystem::path& p)
{
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
        return "cannot read " + p.string() + ": " + std::strerror(errno);
    if (!S_ISREG(st.st_mode))
        return p.string() + " is not a regular file";
    const int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return "cannot read " + p.string() + ": " + std::strerror(errno);
    ::close(fd);
    return {};
}

void read_files(const KeySpec& spec, const YAML::Node& v, const std::string& path, WalkContext& cx)
{
    auto list = read_list<std::filesystem::path>(
        spec, v, path, cx,
        [&](const std::string& s, const YAML::Node& item, const std::string& ipath,
            const std::vector<std::filesystem::path>& before)
            -> std::optional<std::filesystem::path> {
            std::filesystem::path p(s);
            if (p.is_relative())
                p = cx.base_dir / p;
            p = p.lexically_normal();
            if (std::string why = file_problem(p); !why.empty()) {
                cx.error(item.Mark(), ipath, why);
                return std::nullopt;
            }
            if (std::find(before.begin(), before.end(), p) != before.end()) {
                cx.error(item.Mark(), ipath, p.string() + " is listed twice");
                return std::nullopt;
            }
            return p;
        });
    if (list)
        std::get<PathsField>(spec.field)(cx.config) = std::move(*list);
}

// The position of the nearest node on `path` that the YAML had: a missing field is reported
// where its parent mapping starts.
YAML::Mark mark_of(const YamlJson& doc, std::string path, const YAML::Mark& fallback)
{
    for (;;) {
        if (auto it = doc.marks.find(path); it != doc.marks.end())
            return it->second;
        const auto cut = path.find_last_of(".[");
        if (cut == std::string::npos)
            return fallback;
        path.resize(cut);
    }
}

void read_site(const KeySpec& spec, const YAML::Node& v, const std::string& path, WalkContext& cx)
{
    load::FieldErrors errors;
    const YamlJson doc = yaml_to_json(v, path, errors);
    if (errors.empty()) {
        if (auto site = load::parse_site_json(doc.value, path, errors)) {
            Config::Site& out = std::get<SiteField>(spec.field)(cx.config);
            out.configured = true;
            out.info = std::move(*site);
            return;
        }
    }
    for (const auto& e : errors)
        cx.error(mark_of(doc, e.path, v.Mark()), e.path, e.reason);
}

} // namespace

void read_value(const KeySpec& spec, const YAML::Node& value, const std::string& path,
                const YAML::Mark& key_mark, WalkContext& cx)
{
    if (value.IsNull() || !value.IsDefined()) {
        cx.error(key_mark, path, "missing value");
        return;
    }
    switch (spec.kind) {
    case ValueKind::String:
        if (auto s = read_scalar_string(spec, value, path, cx))
            std::get<StringField>(spec.field)(cx.config) = std::move(*s);
        return;
    case ValueKind::Unsigned: read_unsigned(spec, value, path, cx); return;
    case ValueKind::EndpointList: read_endpoints(spec, value, path, cx); return;
    case ValueKind::PrefixList: read_prefixes(spec, value, path, cx); return;
    case ValueKind::FileList: read_files(spec, value, path, cx); return;
    case ValueKind::Site: read_site(spec, value, path, cx); return;
    case ValueKind::StringList: read_strings(spec, value, path, cx); return;
    case ValueKind::Boolean: read_bool(spec, value, path, cx); return;
    }
}

} // namespace idpath::config
