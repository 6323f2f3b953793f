#pragma once
/// A bounded map with least-recently-used eviction, for the recursion caches.
/// Thread-safety: none; the caches wrap it in their own mutex.

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace idpath::recursion {

template <class V>
class LruMap {
public:
    /// `capacity` 0 holds nothing.
    explicit LruMap(std::size_t capacity)
        : capacity_(capacity)
    {}

    /// The entry, marked most recently used; nullptr when absent.
    V* find(const std::string& key)
    {
        const auto it = index_.find(key);
        if (it == index_.end())
            return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return &it->second->second;
    }

    void put(const std::string& key, V value)
    {
        if (capacity_ == 0)
            return;
        if (V* v = find(key)) {
            *v = std::move(value);
            return;
        }
        if (index_.size() >= capacity_) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
        order_.emplace_front(key, std::move(value));
        index_.emplace(key, order_.begin());
    }

    void erase(const std::string& key)
    {
        const auto it = index_.find(key);
        if (it == index_.end())
            return;
        order_.erase(it->second);
        index_.erase(it);
    }

    void clear()
    {
        index_.clear();
        order_.clear();
    }

    std::size_t size() const noexcept { return index_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    using Entry = std::pair<std::string, V>;
    std::size_t capacity_;
    std::list<Entry> order_; // most recent first
    std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

} // namespace idpath::recursion
