#include "perf/gun/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace idpath::gun {

std::size_t histogram_bucket(std::uint64_t v) noexcept
{
    if (v < kHistogramSub)
        return static_cast<std::size_t>(v);
    const unsigned top = static_cast<unsigned>(std::bit_width(v)) - 1; // >= kHistogramSubBits
    if (top >= kHistogramMaxBits)
        return kHistogramBuckets - 1;
    const std::size_t octave = top - kHistogramSubBits + 1;
    const std::size_t within = static_cast<std::size_t>(v >> (top - kHistogramSubBits)) - kHistogramSub;
    return octave * kHistogramSub + within;
}

std::uint64_t histogram_bucket_low(std::size_t b) noexcept
{
    if (b < kHistogramSub)
        return b;
    const std::size_t octave = b / kHistogramSub;
    const std::size_t within = b % kHistogramSub;
    return static_cast<std::uint64_t>(kHistogramSub + within) << (octave - 1);
}

std::uint64_t histogram_bucket_high(std::size_t b) noexcept
{
    if (b < kHistogramSub)
        return b;
    return histogram_bucket_low(b) + (std::uint64_t{1} << (b / kHistogramSub - 1)) - 1;
}

void Histogram::record(std::uint64_t v) noexcept
{
    ++buckets_[histogram_bucket(v)];
    ++count_;
    sum_ += v;
    max_ = std::max(max_, v);
}

void Histogram::add_bucket(std::size_t b, std::uint64_t n) noexcept
{
    buckets_[b] += n;
    count_ += n;
}

void Histogram::merge(const Histogram& other) noexcept
{
    for (std::size_t b = 0; b < kHistogramBuckets; ++b)
        buckets_[b] += other.buckets_[b];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
}

Histogram Histogram::since(const Histogram& earlier) const noexcept
{
    Histogram d;
    std::size_t top = 0;
    for (std::size_t b = 0; b < kHistogramBuckets; ++b) {
        d.buckets_[b] = buckets_[b] - earlier.buckets_[b];
        if (d.buckets_[b])
            top = b;
    }
    d.count_ = count_ - earlier.count_;
    d.sum_ = sum_ - earlier.sum_;
    d.max_ = d.count_ ? std::min(max_, histogram_bucket_high(top)) : 0;
    return d;
}

std::uint64_t Histogram::percentile(double q) const noexcept
{
    if (count_ == 0)
        return 0;
    const double wanted = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_));
    const std::uint64_t rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < kHistogramBuckets; ++b) {
        seen += buckets_[b];
        if (seen >= rank)
            return std::min(histogram_bucket_high(b), max_);
    }
    return max_;
}

void SharedHistogram::read_into(Histogram& out) const noexcept
{
    for (std::size_t b = 0; b < kHistogramBuckets; ++b)
        if (const std::uint64_t n = buckets_[b].get())
            out.add_bucket(b, n);
    out.add_sum(sum_.get());
    out.set_max(max_.load(std::memory_order_relaxed));
}

} // namespace idpath::gun
