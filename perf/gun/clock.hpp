#pragma once
/// Clocks of the load generator: monotonic nanoseconds for latency, pacing and timeouts; Unix
/// seconds for the ExpirationTime a request carries. Both read the vDSO: no syscall.
/// Thread-safety: pure functions.

#include <time.h>

#include <cstdint>

namespace idpath::gun {

inline constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
inline constexpr std::uint64_t kNsPerMs = 1'000'000;

inline std::uint64_t monotonic_ns() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * kNsPerSecond + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline std::uint32_t unix_seconds() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint32_t>(ts.tv_sec);
}

} // namespace idpath::gun
