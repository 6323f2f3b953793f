#include "controlplane/replication/client_backoff.hpp"

#include <gtest/gtest.h>

namespace idpath::replication {
namespace {

TEST(Backoff, NoFailureNoDelay)
{
    EXPECT_EQ(backoff_delay_ms(0, 1000, 300000, 1.0), 0);
}

TEST(Backoff, DoublesFromTheMinimum)
{
    EXPECT_EQ(backoff_delay_ms(1, 1000, 300000, 1.0), 1000);
    EXPECT_EQ(backoff_delay_ms(2, 1000, 300000, 1.0), 2000);
    EXPECT_EQ(backoff_delay_ms(3, 1000, 300000, 1.0), 4000);
    EXPECT_EQ(backoff_delay_ms(9, 1000, 300000, 1.0), 256000);
}

TEST(Backoff, CappedAtTheMaximumEvenAfterManyFailures)
{
    EXPECT_EQ(backoff_delay_ms(10, 1000, 300000, 1.0), 300000);
    EXPECT_EQ(backoff_delay_ms(1000000, 1000, 300000, 1.0), 300000);
    EXPECT_EQ(backoff_delay_ms(1000000, 1000, 300000, 0.0), 150000);
}

TEST(Backoff, JitterStaysWithinHalfToWhole)
{
    for (int failures = 1; failures < 40; ++failures)
        for (double j = 0.0; j <= 1.0; j += 0.125) {
            const int full = backoff_delay_ms(failures, 500, 60000, 1.0);
            const int d = backoff_delay_ms(failures, 500, 60000, j);
            EXPECT_GE(d, full / 2) << failures << " " << j;
            EXPECT_LE(d, full) << failures << " " << j;
        }
    EXPECT_EQ(backoff_delay_ms(1, 1000, 300000, 0.0), 500);
    EXPECT_EQ(backoff_delay_ms(1, 1000, 300000, 7.0), 1000); // clamped
    EXPECT_EQ(backoff_delay_ms(1, 1000, 300000, -1.0), 500);
}

TEST(Backoff, MaximumBelowMinimumMeansMinimum)
{
    EXPECT_EQ(backoff_delay_ms(5, 1000, 10, 1.0), 1000);
}

} // namespace
} // namespace idpath::replication
