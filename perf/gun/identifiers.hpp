#pragma once
/// The identifiers a run queries, and their loaders: a handle per line, JSON lines (the "handle"
/// field, as idpathd's import format writes it), or handles given on the command line.
///
/// The set holds every handle in one arena (a handle costs its bytes plus 8 octets), so a run
/// over 10 M identifiers does not spend its start-up in the allocator.
/// Thread-safety: built on the main thread, then read-only and shared by every worker.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dataplane/base/result.hpp"

namespace idpath::gun {

class IdentifierSet {
public:
    /// Appends a handle (the caller has checked it). Duplicates are kept: they weigh more.
    void add(std::string_view handle);

    std::size_t size() const noexcept { return ends_.size(); }
    bool empty() const noexcept { return ends_.empty(); }
    std::string_view at(std::size_t i) const noexcept
    {
        const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
        return {bytes_.data() + begin, ends_[i] - begin};
    }
    std::size_t longest() const noexcept { return longest_; }

    /// Distinct prefixes in order of first appearance: the text before the first '/', or the
    /// whole handle when it has none. Generated misses go under these, so prefix handles
    /// ("0.NA/<prefix>") contribute none: a miss under "0.NA" would name an unknown prefix.
    const std::vector<std::string>& prefixes() const noexcept { return prefixes_; }
    std::size_t longest_prefix() const noexcept { return longest_prefix_; }

private:
    std::string bytes_;
    std::vector<std::uint64_t> ends_;
    std::vector<std::string> prefixes_;
    std::unordered_set<std::string> seen_prefixes_;
    std::size_t longest_ = 0;
    std::size_t longest_prefix_ = 0;
};

/// Why a handle cannot be queried, or nullptr: empty, or longer than `max_length` octets.
const char* handle_problem(std::string_view handle, std::size_t max_length) noexcept;

/// Reads one handle per line; blank lines and lines starting with '#' are skipped, surrounding
/// spaces, tabs and CR trimmed. `name` labels errors ("handles.txt:12: handle longer than ...").
/// Returns the number of handles added.
Result<std::size_t, std::string> read_handle_lines(std::istream& in, std::string_view name,
                                                   std::size_t max_length, IdentifierSet& out);

/// Reads JSON lines and takes each object's "handle" string; blank and '#' lines are skipped.
/// A line that is not a JSON object with a string "handle" is an error naming file and line.
Result<std::size_t, std::string> read_jsonl_lines(std::istream& in, std::string_view name,
                                                  std::size_t max_length, IdentifierSet& out);

enum class IdentifierFormat : std::uint8_t { Lines, JsonLines };

/// Opens `path` and reads it in `format`; an unreadable file is an error naming it.
Result<std::size_t, std::string> load_identifier_file(const std::string& path, IdentifierFormat format,
                                                      std::size_t max_length, IdentifierSet& out);

} // namespace idpath::gun
