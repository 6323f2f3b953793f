#include "controlplane/mirror/file/log_file_name.hpp"

#include <charconv>
#include <cstdio>

namespace idpath::mirror {

namespace {

constexpr std::string_view kPrefix = "idpath-";

bool digits(std::string_view s, std::size_t n, unsigned& v)
{
    if (s.size() < n)
        return false;
    const auto r = std::from_chars(s.data(), s.data() + n, v);
    return r.ec == std::errc() && r.ptr == s.data() + n;
}

} // namespace

std::string file_node_id(std::string_view node_id)
{
    std::string s;
    for (char c : node_id) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '.' || c == '_';
        s += keep ? c : '_';
    }
    return s.empty() ? "node" : s;
}

std::string LogFileName::str() const
{
    using namespace std::chrono;
    const auto day = floor<days>(start);
    const year_month_day ymd{day};
    const hh_mm_ss hms{start - day};
    char when[32];
    std::snprintf(when, sizeof when, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    char number[32];
    std::snprintf(number, sizeof number, "%08llu", static_cast<unsigned long long>(seq));
    return std::string(kPrefix) + node + "-" + when + "-" + number +
           (format == LogFormat::Binary ? ".ipl" : ".jsonl") + (compressed ? ".zst" : "");
}

std::optional<LogFileName> parse_log_file_name(std::string_view name)
{
    using namespace std::chrono;
    LogFileName f;
    if (!name.starts_with(kPrefix))
        return std::nullopt;
    name.remove_prefix(kPrefix.size());
    if (name.ends_with(".zst")) {
        f.compressed = true;
        name.remove_suffix(4);
    }
    if (name.ends_with(".ipl")) {
        f.format = LogFormat::Binary;
        name.remove_suffix(4);
    } else if (name.ends_with(".jsonl")) {
        f.format = LogFormat::Json;
        name.remove_suffix(6);
    } else {
        return std::nullopt;
    }
    // <node>-<time>-<seq>; the node has no '-'.
    const auto dash1 = name.find('-');
    if (dash1 == 0 || dash1 == std::string_view::npos)
        return std::nullopt;
    f.node = std::string(name.substr(0, dash1));
    if (file_node_id(f.node) != f.node)
        return std::nullopt;
    std::string_view rest = name.substr(dash1 + 1);
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (rest.size() < 18 || !digits(rest, 4, y) || !digits(rest.substr(4), 2, mo) ||
        !digits(rest.substr(6), 2, d) || rest[8] != 'T' || !digits(rest.substr(9), 2, h) ||
        !digits(rest.substr(11), 2, mi) || !digits(rest.substr(13), 2, s) || rest[15] != 'Z' ||
        rest[16] != '-')
        return std::nullopt;
    const year_month_day ymd{year{static_cast<int>(y)}, month{mo}, day{d}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 59)
        return std::nullopt;
    f.start = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
    const std::string_view seq = rest.substr(17);
    const auto r = std::from_chars(seq.data(), seq.data() + seq.size(), f.seq);
    if (seq.empty() || r.ec != std::errc() || r.ptr != seq.data() + seq.size())
        return std::nullopt;
    return f;
}

} // namespace idpath::mirror
