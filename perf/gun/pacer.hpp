#pragma once
/// Open-loop pacing: a token bucket that releases `rate` queries per second in bursts of at most
/// `burst`. A sender that falls behind does not catch up beyond one burst, so the achieved rate
/// (reported as sent/s) shows a saturated generator instead of hiding it in a later flood.
/// Thread-safety: one per socket. Hot path: yes.

#include <algorithm>
#include <cstdint>

#include "perf/gun/clock.hpp"

namespace idpath::gun {

class TokenBucket {
public:
    /// rate > 0 queries per second; burst >= 1. Starts with one token.
    TokenBucket(double rate, std::uint32_t burst, std::uint64_t now_ns) noexcept
        : ns_per_token_(static_cast<double>(kNsPerSecond) / rate), burst_(burst), last_ns_(now_ns), tokens_(1)
    {
    }

    /// Takes up to `want` tokens available at `now_ns`; returns how many it took.
    std::uint32_t take(std::uint64_t now_ns, std::uint32_t want) noexcept
    {
        refill(now_ns);
        const auto n = static_cast<std::uint32_t>(std::min(tokens_, static_cast<double>(want)));
        tokens_ -= n;
        return n;
    }

    /// Whole tokens dropped because the bucket was full (the sender fell more than a burst
    /// behind) since the last call.
    std::uint64_t take_overflow() noexcept
    {
        const auto n = static_cast<std::uint64_t>(overflow_);
        overflow_ -= static_cast<double>(n);
        return n;
    }

    /// Nanoseconds from `now_ns` until a token is due; 0 when one is there.
    std::uint64_t wait_ns(std::uint64_t now_ns) noexcept
    {
        refill(now_ns);
        return tokens_ >= 1 ? 0 : static_cast<std::uint64_t>((1 - tokens_) * ns_per_token_) + 1;
    }

private:
    void refill(std::uint64_t now_ns) noexcept
    {
        if (now_ns <= last_ns_)
            return;
        const double filled = tokens_ + static_cast<double>(now_ns - last_ns_) / ns_per_token_;
        tokens_ = std::min(static_cast<double>(burst_), filled);
        overflow_ += filled - tokens_;
        last_ns_ = now_ns;
    }

    double ns_per_token_;
    std::uint32_t burst_;
    std::uint64_t last_ns_;
    double tokens_;
    double overflow_ = 0;
};

} // namespace idpath::gun
