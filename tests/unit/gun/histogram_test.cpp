#include "perf/gun/histogram.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

namespace idpath::gun {
namespace {

TEST(Histogram, SmallValuesHaveABucketEach)
{
    for (std::uint64_t v = 0; v < kHistogramSub; ++v) {
        EXPECT_EQ(histogram_bucket(v), v);
        EXPECT_EQ(histogram_bucket_low(v), v);
        EXPECT_EQ(histogram_bucket_high(v), v);
    }
}

TEST(Histogram, BucketsCoverTheirValuesWithinOneSixtyFourth)
{
    constexpr std::uint64_t kLimit = std::uint64_t{1} << kHistogramMaxBits;
    for (std::uint64_t v = 1; v < kLimit / 2; v = v * 3 / 2 + 1) {
        for (const std::uint64_t x : {v, v + 1, (v << 1) - 1, kLimit - 1}) {
            const std::size_t b = histogram_bucket(x);
            ASSERT_LT(b, kHistogramBuckets);
            EXPECT_LE(histogram_bucket_low(b), x);
            EXPECT_GE(histogram_bucket_high(b), x);
            const std::uint64_t width = histogram_bucket_high(b) - histogram_bucket_low(b) + 1;
            EXPECT_LE(width * kHistogramSub, x < kHistogramSub ? kHistogramSub : 2 * x) << x;
        }
    }
}

TEST(Histogram, BucketsAreContiguous)
{
    for (std::size_t b = 1; b < kHistogramBuckets; ++b)
        EXPECT_EQ(histogram_bucket_low(b), histogram_bucket_high(b - 1) + 1) << b;
}

TEST(Histogram, HugeValuesLandInTheLastBucket)
{
    EXPECT_EQ(histogram_bucket(~std::uint64_t{0}), kHistogramBuckets - 1);
    EXPECT_EQ(histogram_bucket(std::uint64_t{1} << 50), kHistogramBuckets - 1);
    EXPECT_EQ(histogram_bucket(std::uint64_t{1} << kHistogramMaxBits), kHistogramBuckets - 1);
}

TEST(Histogram, PercentilesOfAUniformRun)
{
    auto h = std::make_unique<Histogram>();
    for (std::uint64_t v = 1; v <= 100000; ++v)
        h->record(v);
    EXPECT_EQ(h->count(), 100000u);
    EXPECT_EQ(h->max(), 100000u);
    EXPECT_DOUBLE_EQ(h->mean(), 50000.5);
    const auto near = [](std::uint64_t got, double want) {
        EXPECT_GE(static_cast<double>(got), want) << want;
        EXPECT_LE(static_cast<double>(got), want * (1 + 1.0 / kHistogramSub)) << want;
    };
    near(h->percentile(0.5), 50000);
    near(h->percentile(0.9), 90000);
    near(h->percentile(0.99), 99000);
    near(h->percentile(0.999), 99900);
    EXPECT_EQ(h->percentile(1.0), 100000u);
    EXPECT_EQ(h->percentile(0.0), 1u);
}

TEST(Histogram, ExactBelowSixtyFour)
{
    Histogram h;
    for (const std::uint64_t v : {5u, 7u, 7u, 9u})
        h.record(v);
    EXPECT_EQ(h.percentile(0.25), 5u);
    EXPECT_EQ(h.percentile(0.5), 7u);
    EXPECT_EQ(h.percentile(0.75), 7u);
    EXPECT_EQ(h.percentile(0.76), 9u);
}

TEST(Histogram, EmptyIsZero)
{
    Histogram h;
    EXPECT_EQ(h.percentile(0.5), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0);
}

TEST(Histogram, PercentileNeverExceedsMax)
{
    Histogram h;
    h.record(1000001);
    EXPECT_EQ(h.percentile(0.99), 1000001u);
}

TEST(Histogram, MergeAndSince)
{
    auto a = std::make_unique<Histogram>();
    auto b = std::make_unique<Histogram>();
    a->record(100);
    b->record(200000);
    b->record(300);
    auto merged = std::make_unique<Histogram>(*a);
    merged->merge(*b);
    EXPECT_EQ(merged->count(), 3u);
    EXPECT_EQ(merged->max(), 200000u);

    const Histogram interval = merged->since(*a);
    EXPECT_EQ(interval.count(), 2u);
    EXPECT_EQ(interval.percentile(0.5), histogram_bucket_high(histogram_bucket(300)));
    // The interval's max is the top of its highest bucket, capped at the overall max.
    EXPECT_EQ(interval.max(), 200000u);
    EXPECT_EQ(merged->since(*merged).count(), 0u);
}

TEST(Histogram, SharedHistogramReadsLikeAPlainOne)
{
    auto shared = std::make_unique<SharedHistogram>();
    auto plain = std::make_unique<Histogram>();
    for (std::uint64_t v = 1; v < 5000000; v = v * 7 / 5 + 3) {
        shared->record(v);
        plain->record(v);
    }
    auto read = std::make_unique<Histogram>();
    shared->read_into(*read);
    EXPECT_EQ(read->count(), plain->count());
    EXPECT_EQ(read->max(), plain->max());
    EXPECT_EQ(read->mean(), plain->mean());
    for (const double q : {0.1, 0.5, 0.9, 0.99, 0.999})
        EXPECT_EQ(read->percentile(q), plain->percentile(q)) << q;
}

} // namespace
} // namespace idpath::gun
