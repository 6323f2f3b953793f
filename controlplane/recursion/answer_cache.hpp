#pragma once
/// Resolved answers by handle (recursive role): positive answers for their values' TTL,
/// RC_HANDLE_NOT_FOUND / RC_VALUES_NOT_FOUND for the configured negative TTL.
/// Thread-safety: every member may be called from any thread.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/recursion/lru_map.hpp"

namespace idpath::recursion {

struct CachedAnswer {
    std::uint32_t response_code = 1;
    std::uint32_t value_count = 0;
    std::vector<std::uint8_t> values; // encoded, back to back
    /// Seconds left when returned by get().
    std::uint32_t ttl = 0;

    bool negative() const noexcept { return response_code != 1; }
};

class AnswerCache {
public:
    explicit AnswerCache(std::size_t max_entries)
        : map_(max_entries)
    {}

    /// The entry for `key` if it has not expired at Unix time `now` (an expired one is dropped).
    std::optional<CachedAnswer> get(const std::string& key, std::uint64_t now);
    /// Keeps `answer` for `ttl` seconds from `now`; ttl 0 keeps nothing (and forgets an older
    /// entry, which the new answer supersedes).
    void put(const std::string& key, CachedAnswer answer, std::uint32_t ttl, std::uint64_t now);
    void clear();
    std::size_t size() const;

private:
    struct Entry {
        CachedAnswer answer;
        std::uint64_t expires = 0;
    };
    mutable std::mutex mutex_;
    LruMap<Entry> map_;
};

} // namespace idpath::recursion
