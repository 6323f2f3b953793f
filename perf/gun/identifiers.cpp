#include "perf/gun/identifiers.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

namespace idpath::gun {
namespace {

std::string_view trim(std::string_view s) noexcept
{
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

std::string located(std::string_view name, std::size_t line, std::string_view reason)
{
    return std::string(name) + ":" + std::to_string(line) + ": " + std::string(reason);
}

/// Calls take(line, number) for every line that is neither blank nor a comment.
template <class Take>
Result<std::size_t, std::string> for_each_line(std::istream& in, std::string_view name, Take&& take)
{
    std::string line;
    std::size_t number = 0;
    std::size_t added = 0;
    while (std::getline(in, line)) {
        ++number;
        const std::string_view text = trim(line);
        if (text.empty() || text.front() == '#')
            continue;
        if (auto problem = take(text); !problem.empty())
            return Err(located(name, number, problem));
        ++added;
    }
    if (in.bad())
        return Err(std::string(name) + ": read error");
    return added;
}

/// "0.NA", where prefix handles live (ASCII case-insensitive, as HANDLE.NET compares prefixes).
bool is_prefix_namespace(std::string_view prefix) noexcept
{
    constexpr std::string_view kNamespace = "0.NA";
    return std::equal(prefix.begin(), prefix.end(), kNamespace.begin(), kNamespace.end(),
                      [](char a, char b) { return (a >= 'a' && a <= 'z' ? a - ('a' - 'A') : a) == b; });
}

std::string add_checked(std::string_view handle, std::size_t max_length, IdentifierSet& out)
{
    if (const char* problem = handle_problem(handle, max_length))
        return problem;
    out.add(handle);
    return {};
}

} // namespace

void IdentifierSet::add(std::string_view handle)
{
    bytes_.append(handle);
    ends_.push_back(bytes_.size());
    longest_ = std::max(longest_, handle.size());
    std::string prefix(handle.substr(0, handle.find('/')));
    if (!is_prefix_namespace(prefix) && seen_prefixes_.insert(prefix).second) {
        longest_prefix_ = std::max(longest_prefix_, prefix.size());
        prefixes_.push_back(std::move(prefix));
    }
}

const char* handle_problem(std::string_view handle, std::size_t max_length) noexcept
{
    if (handle.empty())
        return "empty handle";
    if (handle.size() > max_length)
        return "handle too long for a single-datagram request";
    return nullptr;
}

Result<std::size_t, std::string> read_handle_lines(std::istream& in, std::string_view name,
                                                   std::size_t max_length, IdentifierSet& out)
{
    return for_each_line(in, name, [&](std::string_view text) { return add_checked(text, max_length, out); });
}

Result<std::size_t, std::string> read_jsonl_lines(std::istream& in, std::string_view name,
                                                  std::size_t max_length, IdentifierSet& out)
{
    return for_each_line(in, name, [&](std::string_view text) -> std::string {
        const auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
        if (doc.is_discarded() || !doc.is_object())
            return "not a JSON object";
        const auto it = doc.find("handle");
        if (it == doc.end() || !it->is_string())
            return "no string \"handle\" field";
        return add_checked(it->get_ref<const std::string&>(), max_length, out);
    });
}

Result<std::size_t, std::string> load_identifier_file(const std::string& path, IdentifierFormat format,
                                                      std::size_t max_length, IdentifierSet& out)
{
    std::ifstream in(path);
    if (!in)
        return Err(path + ": " + std::strerror(errno));
    return format == IdentifierFormat::JsonLines ? read_jsonl_lines(in, path, max_length, out)
                                                 : read_handle_lines(in, path, max_length, out);
}

} // namespace idpath::gun
