#include "perf/datagen/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

namespace idpath::datagen {
namespace {

constexpr std::size_t kMaxPrefixLength = 255;

std::optional<std::uint64_t> parse_u64(std::string_view s)
{
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

std::optional<double> parse_double(std::string_view s)
{
    // strtod wants a terminated string; from_chars for double is missing from older libstdc++.
    const std::string text(s);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

std::string upper(std::string_view s)
{
    std::string u(s);
    for (char& c : u)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - ('a' - 'A'));
    return u;
}

/// Empty when `p` can be a homed prefix, else why not.
std::string prefix_problem(std::string_view p)
{
    if (p.empty() || p.size() > kMaxPrefixLength)
        return "must be 1.." + std::to_string(kMaxPrefixLength) + " octets";
    if (p.find('/') != std::string_view::npos)
        return "must not contain '/' (give the prefix, not a handle)";
    if (std::any_of(p.begin(), p.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
        return "must not contain spaces or control characters";
    if (upper(p) == "0.NA")
        return "0.NA holds prefix handles, not identifiers";
    return {};
}

} // namespace

std::string_view usage() noexcept
{
    return "usage: idpath-datagen --count N [--prefix P]... [--seed S] [--zipf-s S]\n"
           "                      [--out FILE] [--handles-out FILE]\n"
           "  --count N           identifiers to write (1..10000000000), required\n"
           "  --prefix P          homed prefix to spread them over, repeatable (default 88.100.1)\n"
           "  --seed S            random seed, 0..2^64-1 (default 1): same options, same output\n"
           "  --zipf-s S          Zipf exponent of handle suffix lengths, 0..10 (default 1.1;\n"
           "                      0: uniform lengths, larger: shorter handles)\n"
           "  --out FILE          JSON lines (docs/data-format.md) to FILE (default - : stdout)\n"
           "  --handles-out FILE  also write one handle per line to FILE (idpath-gun --handles)\n"
           "  --help              this text\n";
}

Result<Options, std::string> parse_options(std::span<const std::string_view> args)
{
    Options o;
    bool have_count = false;
    std::vector<std::string> prefixes;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view name = args[i];
        std::optional<std::string_view> inline_value;
        if (const auto eq = name.find('='); name.starts_with("--") && eq != std::string_view::npos) {
            inline_value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (name == "--help" || name == "-h") {
            o.help = true;
            continue;
        }
        static constexpr std::string_view kTakesValue[] = {"--count", "--prefix", "--seed", "--zipf-s",
                                                           "--out", "--handles-out"};
        if (std::find(std::begin(kTakesValue), std::end(kTakesValue), name) == std::end(kTakesValue))
            return Err("unknown option " + std::string(args[i]));
        if (!inline_value && i + 1 >= args.size())
            return Err(std::string(name) + " needs a value");
        const std::string_view value = inline_value ? *inline_value : args[++i];
        const auto bad = [&](std::string_view why) {
            return Err(std::string(name) + " \"" + std::string(value) + "\": " + std::string(why));
        };
        if (name == "--count") {
            const auto n = parse_u64(value);
            if (!n || *n == 0 || *n > kMaxCount)
                return bad("must be an integer 1.." + std::to_string(kMaxCount));
            o.count = *n;
            have_count = true;
        } else if (name == "--prefix") {
            if (const std::string why = prefix_problem(value); !why.empty())
                return bad(why);
            const std::string u = upper(value);
            if (std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return upper(p) == u; }))
                return bad("given twice (prefixes compare ignoring ASCII case)");
            prefixes.emplace_back(value);
        } else if (name == "--seed") {
            const auto s = parse_u64(value);
            if (!s)
                return bad("must be an integer 0..18446744073709551615");
            o.generator.seed = *s;
        } else if (name == "--zipf-s") {
            const auto s = parse_double(value);
            if (!s || *s < 0 || *s > kMaxZipfS)
                return bad("must be a number 0..10");
            o.generator.zipf_s = *s;
        } else if (value.empty()) {
            return bad("must name a file");
        } else if (name == "--out") {
            o.out = value;
        } else {
            o.handles_out = value;
        }
    }
    if (o.help)
        return o;
    if (!have_count)
        return Err(std::string("--count is required"));
    if (!prefixes.empty())
        o.generator.prefixes = std::move(prefixes);
    if (!o.handles_out.empty() && o.handles_out == o.out)
        return Err(std::string("--out and --handles-out name the same file"));
    return o;
}

} // namespace idpath::datagen
