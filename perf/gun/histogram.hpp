#pragma once
/// Latency histograms with log-linear buckets (the HdrHistogram layout): values below 64 have a
/// bucket each; above, every power of two is split into 64 equal buckets, so a bucket is never
/// wider than 1/64 (1.6 %) of its values. Nanoseconds up to 2^40 (18 min) are kept; larger
/// values land in the last bucket. Fixed size: recording never allocates.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/base/counter.hpp"

namespace idpath::gun {

inline constexpr unsigned kHistogramSubBits = 6;
inline constexpr std::size_t kHistogramSub = std::size_t{1} << kHistogramSubBits;
inline constexpr unsigned kHistogramMaxBits = 40;
inline constexpr std::size_t kHistogramBuckets = (kHistogramMaxBits - kHistogramSubBits + 1) * kHistogramSub;

/// The bucket holding `v`.
std::size_t histogram_bucket(std::uint64_t v) noexcept;
/// Smallest and largest value of bucket `b`.
std::uint64_t histogram_bucket_low(std::size_t b) noexcept;
std::uint64_t histogram_bucket_high(std::size_t b) noexcept;

/// Plain counts: one thread's, or a merged or differenced copy. About 18 KiB.
class Histogram {
public:
    void record(std::uint64_t v) noexcept;
    void merge(const Histogram& other) noexcept;
    /// Counts of `this` minus `earlier` (an earlier copy of the same histogram): an interval.
    /// The interval's max is known to bucket precision only.
    Histogram since(const Histogram& earlier) const noexcept;

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t max() const noexcept { return max_; }
    double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
    /// The value at quantile q in [0, 1]: the highest value of the bucket holding the
    /// ceil(q * count)-th smallest recording, capped at max(); 0 when empty.
    std::uint64_t percentile(double q) const noexcept;

    std::uint64_t bucket(std::size_t b) const noexcept { return buckets_[b]; }
    void add_bucket(std::size_t b, std::uint64_t n) noexcept;
    void set_max(std::uint64_t v) noexcept { max_ = v > max_ ? v : max_; }
    void add_sum(std::uint64_t v) noexcept { sum_ += v; }

private:
    std::array<std::uint64_t, kHistogramBuckets> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

/// One worker's histogram, readable by the reporting thread while the worker records.
/// Thread-safety: record() from the owning thread only; read_into() from any thread.
class SharedHistogram {
public:
    void record(std::uint64_t v) noexcept
    {
        buckets_[histogram_bucket(v)].add();
        sum_.add(v);
        if (v > max_.load(std::memory_order_relaxed))
            max_.store(v, std::memory_order_relaxed);
    }
    /// Adds the current counts to `out`.
    void read_into(Histogram& out) const noexcept;

private:
    std::array<Counter, kHistogramBuckets> buckets_;
    Counter sum_;
    std::atomic<std::uint64_t> max_{0}; // single writer, like Counter
};

} // namespace idpath::gun
