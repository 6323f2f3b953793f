#pragma once
/// Popularity: draws ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s (Zipf's law), in O(1)
/// time and memory by rejection-inversion (W. Hörmann, G. Derflinger, "Rejection-inversion to
/// generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996), so 10 M
/// identifiers need no cumulative table. s = 0 is uniform.
/// Thread-safety: const after construction; share it, one Random per thread. Hot path: yes.

#include <cstdint>

#include "perf/gun/random.hpp"

namespace idpath::gun {

class ZipfSampler {
public:
    /// n >= 1 ranks; exponent s >= 0.
    ZipfSampler(std::uint64_t n, double s) noexcept;

    /// A rank in [0, n).
    std::uint64_t operator()(Random& rng) const noexcept;

    std::uint64_t size() const noexcept { return n_; }
    double exponent() const noexcept { return s_; }

private:
    double h(double x) const noexcept;
    double h_integral(double x) const noexcept;
    double h_integral_inverse(double x) const noexcept;

    std::uint64_t n_;
    double s_;
    double h_integral_x1_ = 0;
    double h_integral_n_ = 0;
    double threshold_ = 0;
};

} // namespace idpath::gun
