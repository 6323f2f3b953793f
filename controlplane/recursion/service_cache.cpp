#include "controlplane/recursion/service_cache.hpp"

#include <utility>

namespace idpath::recursion {

std::optional<std::vector<wire::SiteInfo>> ServiceCache::get(const std::string& prefix_handle,
                                                             std::uint64_t now)
{
    std::lock_guard lock(mutex_);
    Entry* e = map_.find(prefix_handle);
    if (!e)
        return std::nullopt;
    if (e->expires <= now) {
        map_.erase(prefix_handle);
        return std::nullopt;
    }
    return e->sites;
}

void ServiceCache::put(const std::string& prefix_handle, std::vector<wire::SiteInfo> sites,
                       std::uint32_t ttl, std::uint64_t now)
{
    std::lock_guard lock(mutex_);
    if (ttl == 0) {
        map_.erase(prefix_handle);
        return;
    }
    map_.put(prefix_handle, Entry{std::move(sites), now + ttl});
}

void ServiceCache::clear()
{
    std::lock_guard lock(mutex_);
    map_.clear();
}

std::size_t ServiceCache::size() const
{
    std::lock_guard lock(mutex_);
    return map_.size();
}

} // namespace idpath::recursion
