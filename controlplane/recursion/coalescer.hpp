#pragma once
/// Identical questions in flight share one resolution: the first caller for a key resolves,
/// later callers for the same key wait for its result instead of asking upstream again.
/// Thread-safety: every member may be called from any thread.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "controlplane/recursion/outcome.hpp"

namespace idpath::recursion {

class Coalescer {
public:
    /// Runs `resolve` for `key`, or waits for the call already running for it. `shared` is set
    /// true when the result came from another caller's call. If `resolve` throws, the waiters
    /// get an RC_ERROR outcome and the exception reaches the caller that ran it.
    Outcome run(const std::string& key, const std::function<Outcome()>& resolve, bool& shared);

    /// Callers currently waiting on another's call (all keys).
    std::size_t waiters() const;
    /// Keys being resolved.
    std::size_t in_flight() const;

private:
    struct Flight {
        bool done = false;
        Outcome result;
    };
    mutable std::mutex mutex_;
    std::condition_variable done_;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
    std::size_t waiters_ = 0;
};

} // namespace idpath::recursion
