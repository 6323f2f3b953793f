#include "controlplane/mirror/core/event_log.hpp"

#include <ctime>

namespace idpath::mirror {

std::uint64_t realtime_ns() noexcept
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

bool EventLog::post(std::string category, EventFields fields)
{
    const std::uint64_t now = realtime_ns();
    std::lock_guard lock(mutex_);
    const std::uint64_t seq = ++seq_;
    posted_.store(seq, std::memory_order_relaxed);
    if (queue_.size() >= capacity_) {
        lost_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    queue_.push_back(Event{seq, now, std::move(category), std::move(fields)});
    return true;
}

std::size_t EventLog::drain(std::vector<Event>& out, std::size_t max)
{
    std::lock_guard lock(mutex_);
    const std::size_t n = queue_.size() < max ? queue_.size() : max;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return n;
}

std::size_t EventLog::pending() const
{
    std::lock_guard lock(mutex_);
    return queue_.size();
}

} // namespace idpath::mirror
