#pragma once
/// Where prefixes are served: prefix handle (0.NA/<PREFIX>, uppercased) to the sites its
/// HS_SITE / HS_SITE.6 / HS_SERV values named, for the smallest TTL among those values.
/// Thread-safety: every member may be called from any thread.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/recursion/lru_map.hpp"
#include "dataplane/wire/site_info.hpp"

namespace idpath::recursion {

class ServiceCache {
public:
    explicit ServiceCache(std::size_t max_entries)
        : map_(max_entries)
    {}

    std::optional<std::vector<wire::SiteInfo>> get(const std::string& prefix_handle,
                                                   std::uint64_t now);
    /// ttl 0 keeps nothing.
    void put(const std::string& prefix_handle, std::vector<wire::SiteInfo> sites, std::uint32_t ttl,
             std::uint64_t now);
    void clear();
    std::size_t size() const;

private:
    struct Entry {
        std::vector<wire::SiteInfo> sites;
        std::uint64_t expires = 0;
    };
    mutable std::mutex mutex_;
    LruMap<Entry> map_;
};

} // namespace idpath::recursion
