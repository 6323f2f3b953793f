#include "controlplane/recursion/answer_cache.hpp"

#include <utility>

namespace idpath::recursion {

std::optional<CachedAnswer> AnswerCache::get(const std::string& key, std::uint64_t now)
{
    std::lock_guard lock(mutex_);
    Entry* e = map_.find(key);
    if (!e)
        return std::nullopt;
    if (e->expires <= now) {
        map_.erase(key);
        return std::nullopt;
    }
    CachedAnswer a = e->answer;
    a.ttl = static_cast<std::uint32_t>(e->expires - now);
    return a;
}

void AnswerCache::put(const std::string& key, CachedAnswer answer, std::uint32_t ttl,
                      std::uint64_t now)
{
    std::lock_guard lock(mutex_);
    if (ttl == 0) {
        map_.erase(key);
        return;
    }
    map_.put(key, Entry{std::move(answer), now + ttl});
}

void AnswerCache::clear()
{
    std::lock_guard lock(mutex_);
    map_.clear();
}

std::size_t AnswerCache::size() const
{
    std::lock_guard lock(mutex_);
    return map_.size();
}

} // namespace idpath::recursion
