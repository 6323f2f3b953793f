#include "perf/gun/zipf.hpp"

#include <algorithm>
#include <cmath>

namespace idpath::gun {
namespace {

// log1p(x)/x and expm1(x)/x, with their Taylor series near 0 where the quotients lose precision.
double log1p_over_x(double x) noexcept
{
    return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

double expm1_over_x(double x) noexcept
{
    return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

} // namespace

ZipfSampler::ZipfSampler(std::uint64_t n, double s) noexcept : n_(std::max<std::uint64_t>(n, 1)), s_(s)
{
    if (s_ <= 0)
        return;
    h_integral_x1_ = h_integral(1.5) - 1;
    h_integral_n_ = h_integral(static_cast<double>(n_) + 0.5);
    threshold_ = 2 - h_integral_inverse(h_integral(2.5) - h(2));
}

// The paper's functions for ranks counted from 1: h(x) = x^-s and its integral, written through
// the helpers above so that s = 1 (where the integral becomes log x) needs no special case.
double ZipfSampler::h(double x) const noexcept
{
    return std::exp(-s_ * std::log(x));
}

double ZipfSampler::h_integral(double x) const noexcept
{
    const double log_x = std::log(x);
    return expm1_over_x((1 - s_) * log_x) * log_x;
}

double ZipfSampler::h_integral_inverse(double x) const noexcept
{
    double t = x * (1 - s_);
    if (t < -1)
        t = -1; // only reachable through rounding at the far end
    return std::exp(log1p_over_x(t) * x);
}

std::uint64_t ZipfSampler::operator()(Random& rng) const noexcept
{
    if (s_ <= 0)
        return rng.below(n_);
    const double n = static_cast<double>(n_);
    for (;;) {
        const double u = h_integral_n_ + rng.unit() * (h_integral_x1_ - h_integral_n_);
        const double x = h_integral_inverse(u);
        const double k = std::clamp(std::floor(x + 0.5), 1.0, n);
        // Accept at once inside the squeeze, else compare against the exact hat area.
        if (k - x <= threshold_ || u >= h_integral(k + 0.5) - h(k))
            return static_cast<std::uint64_t>(k) - 1;
    }
}

} // namespace idpath::gun
