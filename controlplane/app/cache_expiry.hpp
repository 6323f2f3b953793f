#pragma once
/// When each cached answer in the serving table expires (recursive role, docs/recursion.md):
/// a min-heap of (expiry, handle) plus the latest expiry per handle, so a handle cached again
/// with a later expiry is not erased by its older heap entry.
/// Thread-safety: none; the recursion service's maintenance thread owns it.

#include <cstddef>
#include <cstdint>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace idpath::app {

class CacheExpiry {
public:
    /// `handle` (normalised) is cached until Unix time `expires`; replaces an earlier add().
    void add(const std::string& handle, std::uint64_t expires);
    /// Forgets `handle` (no longer cached, e.g. the table was replaced).
    void forget(const std::string& handle) { latest_.erase(handle); }
    void clear();
    /// The handles whose latest expiry is at or before `now`, each once; they are forgotten.
    std::vector<std::string> take_expired(std::uint64_t now);
    /// Handles cached now.
    std::size_t size() const noexcept { return latest_.size(); }
    bool contains(const std::string& handle) const { return latest_.contains(handle); }

private:
    using Entry = std::pair<std::uint64_t, std::string>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
    std::unordered_map<std::string, std::uint64_t> latest_;
};

} // namespace idpath::app
