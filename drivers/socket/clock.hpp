#pragma once
/// The two clocks the socket transports hand to the resolver: wall-clock Unix seconds (for
/// ExpirationTime) and monotonic milliseconds (for timeouts). Both read the vDSO: no syscall.
/// Thread-safety: pure functions.

#include <time.h>

#include <cstdint>

namespace idpath::socket {

inline std::uint32_t unix_seconds() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint32_t>(ts.tv_sec);
}

inline std::uint64_t monotonic_ms() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
}

/// Monotonic time in microseconds, for round-trip measurements.
inline std::uint64_t monotonic_us() noexcept
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

} // namespace idpath::socket
