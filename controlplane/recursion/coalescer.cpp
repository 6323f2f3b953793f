#include "controlplane/recursion/coalescer.hpp"

#include <utility>

namespace idpath::recursion {

Outcome Coalescer::run(const std::string& key, const std::function<Outcome()>& resolve,
                       bool& shared)
{
    std::unique_lock lock(mutex_);
    if (const auto it = flights_.find(key); it != flights_.end()) {
        const std::shared_ptr<Flight> f = it->second;
        shared = true;
        ++waiters_;
        done_.wait(lock, [&] { return f->done; });
        --waiters_;
        return f->result;
    }
    shared = false;
    const auto f = std::make_shared<Flight>();
    flights_.emplace(key, f);
    lock.unlock();

    // Waiters must be released whatever happens to this call.
    const auto finish = [&](Outcome result) {
        std::lock_guard relock(mutex_);
        f->result = std::move(result);
        f->done = true;
        flights_.erase(key);
        done_.notify_all();
    };
    try {
        Outcome result = resolve();
        finish(result);
        return result;
    } catch (...) {
        Outcome failed;
        failed.error = "resolution aborted";
        finish(std::move(failed));
        throw;
    }
}

std::size_t Coalescer::waiters() const
{
    std::lock_guard lock(mutex_);
    return waiters_;
}

std::size_t Coalescer::in_flight() const
{
    std::lock_guard lock(mutex_);
    return flights_.size();
}

} // namespace idpath::recursion
