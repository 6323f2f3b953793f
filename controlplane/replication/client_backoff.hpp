#pragma once
/// The mirror's retry delay after failed rounds (repl_client.hpp): exponential from min_ms,
/// capped at max_ms, times a jitter in [0.5, 1.0] so mirrors that lost their upstream together
/// do not all come back in the same instant. Pure, for unit tests.

#include <algorithm>
#include <cmath>

namespace idpath::replication {

/// `failures` consecutive failed rounds (0: no delay); `jitter01` uniform in [0, 1].
inline int backoff_delay_ms(int failures, int min_ms, int max_ms, double jitter01) noexcept
{
    if (failures <= 0 || min_ms <= 0)
        return 0;
    max_ms = std::max(max_ms, min_ms);
    // Doubling stops at the cap: 2^(failures-1) itself would overflow after ~30 failures.
    double base = min_ms;
    for (int i = 1; i < failures && base < max_ms; ++i)
        base *= 2;
    base = std::min<double>(base, max_ms);
    const double j = std::isnan(jitter01) ? 1.0 : std::clamp(jitter01, 0.0, 1.0);
    return static_cast<int>(base * (0.5 + 0.5 * j));
}

} // namespace idpath::replication
