#include "dataplane/querylog/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace idpath::querylog {
namespace {

using IntRing = SpscRing<std::uint64_t>;

/// Claims a slot that must be there and writes `v` into it.
void put(IntRing& ring, std::uint64_t v)
{
    std::uint64_t* s = ring.claim();
    ASSERT_NE(s, nullptr);
    *s = v;
}

/// The published values, oldest first, without releasing them.
std::vector<std::uint64_t> readable(IntRing& ring)
{
    const auto r = ring.peek();
    std::vector<std::uint64_t> out(r.first.begin(), r.first.end());
    out.insert(out.end(), r.second.begin(), r.second.end());
    return out;
}

TEST(SpscRing, CapacityIsAPowerOfTwoOfAtLeastTwo)
{
    EXPECT_EQ(IntRing(0).capacity(), 2u);
    EXPECT_EQ(IntRing(2).capacity(), 2u);
    EXPECT_EQ(IntRing(5).capacity(), 8u);
    EXPECT_EQ(IntRing(1024).capacity(), 1024u);
}

TEST(SpscRing, ClaimedSlotsAreInvisibleUntilPublished)
{
    IntRing ring(4);
    put(ring, 1);
    put(ring, 2);
    EXPECT_EQ(ring.unpublished(), 2u);
    EXPECT_EQ(ring.unpublished_at(1), 2u);
    EXPECT_EQ(ring.peek().size(), 0u);
    ring.publish();
    EXPECT_EQ(ring.unpublished(), 0u);
    EXPECT_EQ(readable(ring), (std::vector<std::uint64_t>{1, 2}));
}

TEST(SpscRing, ClaimWhenFullReturnsNullUntilReleased)
{
    IntRing ring(4);
    for (std::uint64_t i = 0; i < 4; ++i) {
        std::uint64_t* s = ring.claim();
        ASSERT_NE(s, nullptr);
        *s = i;
    }
    EXPECT_EQ(ring.claim(), nullptr); // full, claimed but not even published
    ring.publish();
    EXPECT_EQ(ring.claim(), nullptr); // full, published but not released
    ring.release(1);
    std::uint64_t* s = ring.claim();
    ASSERT_NE(s, nullptr);
    *s = 4;
    EXPECT_EQ(ring.claim(), nullptr);
    ring.publish();
    EXPECT_EQ(readable(ring), (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(SpscRing, WrapsAroundInTwoSpans)
{
    IntRing ring(8);
    std::uint64_t next = 0, expect = 0;
    // Bursts of 5 against a capacity of 8: the readable region wraps every other round.
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 5; ++i)
            put(ring, next++);
        ring.publish();
        const auto r = ring.peek();
        ASSERT_EQ(r.size(), 5u);
        if (round % 8 == 1) {
            EXPECT_FALSE(r.second.empty()); // slots 5..9 -> 5,6,7 then 0,1
        }
        for (const std::uint64_t v : r.first)
            EXPECT_EQ(v, expect++);
        for (const std::uint64_t v : r.second)
            EXPECT_EQ(v, expect++);
        ring.release(r.size());
    }
    EXPECT_EQ(expect, next);
    EXPECT_EQ(ring.peek().size(), 0u);
}

TEST(SpscRing, TwoThreadsMoveMillionsInOrderWithoutLoss)
{
    constexpr std::uint64_t kCount = 3'000'000;
    constexpr std::uint64_t kBurst = 32;
    IntRing ring(1024);
    std::uint64_t refused = 0;
    std::thread producer([&] {
        std::uint64_t v = 0;
        while (v < kCount) {
            std::uint64_t in_burst = 0;
            while (in_burst < kBurst && v < kCount) {
                std::uint64_t* s = ring.claim();
                if (s == nullptr) {
                    ++refused; // full: a serving thread would count a loss; the test retries
                    break;
                }
                *s = v++;
                ++in_burst;
            }
            ring.publish();
        }
    });
    std::uint64_t expect = 0;
    bool in_order = true;
    while (expect < kCount) {
        const auto r = ring.peek();
        for (const std::uint64_t v : r.first)
            in_order &= v == expect++;
        for (const std::uint64_t v : r.second)
            in_order &= v == expect++;
        ring.release(r.size());
    }
    producer.join();
    EXPECT_TRUE(in_order);
    EXPECT_EQ(expect, kCount);
    EXPECT_EQ(ring.peek().size(), 0u);
    RecordProperty("refused_claims", std::to_string(refused));
}

} // namespace
} // namespace idpath::querylog
