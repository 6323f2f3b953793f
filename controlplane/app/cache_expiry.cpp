#include "controlplane/app/cache_expiry.hpp"

namespace idpath::app {

void CacheExpiry::add(const std::string& handle, std::uint64_t expires)
{
    latest_[handle] = expires;
    heap_.emplace(expires, handle);
    // Superseded entries stay in the heap until they surface; a heap far larger than the live
    // set (one handle re-cached over and over) is rebuilt from it.
    if (heap_.size() > 2 * latest_.size() + 1024) {
        decltype(heap_) fresh;
        for (const auto& [h, e] : latest_)
            fresh.emplace(e, h);
        heap_ = std::move(fresh);
    }
}

void CacheExpiry::clear()
{
    heap_ = {};
    latest_.clear();
}

std::vector<std::string> CacheExpiry::take_expired(std::uint64_t now)
{
    std::vector<std::string> out;
    while (!heap_.empty() && heap_.top().first <= now) {
        const auto [expires, handle] = heap_.top();
        heap_.pop();
        const auto it = latest_.find(handle);
        if (it == latest_.end() || it->second != expires)
            continue; // superseded or forgotten
        latest_.erase(it);
        out.push_back(handle);
    }
    return out;
}

} // namespace idpath::app
