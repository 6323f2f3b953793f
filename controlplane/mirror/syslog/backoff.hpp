#pragma once
/// When a syslog sink may try its receiver again after a failure: exponential backoff with
/// jitter, so a receiver that is down is not hammered and many nodes that lost the same
/// receiver do not come back at the same instant. Thread-safety: one thread.

#include <algorithm>
#include <chrono>
#include <random>

namespace idpath::mirror::syslog {

class Backoff {
public:
    using Clock = std::chrono::steady_clock;

    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
        : initial_(std::max(initial, std::chrono::milliseconds(1))), max_(std::max(max, initial_)), next_(initial_),
          random_(std::random_device{}())
    {
    }

    /// A failure now: the next try waits between half and all of the current delay, which
    /// then doubles up to the cap.
    void failed(Clock::time_point now = Clock::now())
    {
        std::uniform_int_distribution<long long> jitter(next_.count() / 2, next_.count());
        retry_at_ = now + std::chrono::milliseconds(jitter(random_));
        next_ = std::min(next_ * 2, max_);
    }

    /// A success: the next failure starts over from the initial delay.
    void succeeded()
    {
        next_ = initial_;
        retry_at_ = {};
    }

    bool waiting(Clock::time_point now = Clock::now()) const { return now < retry_at_; }

private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    std::chrono::milliseconds next_;
    Clock::time_point retry_at_{};
    std::minstd_rand random_;
};

} // namespace idpath::mirror::syslog
