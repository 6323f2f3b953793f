// The recursion caches: HANDLE.NET's TTL rules (relative, absolute, 0, the two-day cap),
// negative entries, expiry and LRU eviction.

#include <gtest/gtest.h>

#include <vector>

#include "controlplane/recursion/answer_cache.hpp"
#include "controlplane/recursion/lru_map.hpp"
#include "controlplane/recursion/service_cache.hpp"
#include "controlplane/recursion/ttl.hpp"

namespace idpath::recursion {
namespace {

constexpr std::uint64_t kNow = 1'800'000'000;

wire::HandleValue value(wire::TtlType type, std::uint32_t ttl)
{
    wire::HandleValue v;
    v.ttl_type = type;
    v.ttl = ttl;
    v.type = "URL";
    return v;
}

TEST(Ttl, RelativeIsTakenAsIs)
{
    EXPECT_EQ(value_ttl(value(wire::TtlType::Relative, 3600), kNow, kMaxRecognizedTtl), 3600u);
}

TEST(Ttl, AbsoluteCountsDownToItsTime)
{
    EXPECT_EQ(value_ttl(value(wire::TtlType::Absolute, kNow + 90), kNow, kMaxRecognizedTtl), 90u);
    EXPECT_EQ(value_ttl(value(wire::TtlType::Absolute, kNow), kNow, kMaxRecognizedTtl), 0u);
    EXPECT_EQ(value_ttl(value(wire::TtlType::Absolute, kNow - 5), kNow, kMaxRecognizedTtl), 0u);
    // An absolute time far ahead is still capped.
    EXPECT_EQ(value_ttl(value(wire::TtlType::Absolute, kNow + 10'000'000), kNow, kMaxRecognizedTtl),
              kMaxRecognizedTtl);
}

TEST(Ttl, CappedAtMaxRecognized)
{
    EXPECT_EQ(value_ttl(value(wire::TtlType::Relative, 0xffffffffu), kNow, kMaxRecognizedTtl),
              172800u);
    EXPECT_EQ(value_ttl(value(wire::TtlType::Relative, 500), kNow, 100), 100u);
}

TEST(Ttl, AnswerIsItsShortestValueAndZeroMeansDoNotCache)
{
    const std::vector<wire::HandleValue> mixed = {value(wire::TtlType::Relative, 86400),
                                                  value(wire::TtlType::Absolute, kNow + 30),
                                                  value(wire::TtlType::Relative, 600)};
    EXPECT_EQ(answer_ttl(mixed, kNow, kMaxRecognizedTtl), 30u);
    const std::vector<wire::HandleValue> with_zero = {value(wire::TtlType::Relative, 86400),
                                                      value(wire::TtlType::Relative, 0)};
    EXPECT_EQ(answer_ttl(with_zero, kNow, kMaxRecognizedTtl), 0u);
    EXPECT_EQ(answer_ttl({}, kNow, kMaxRecognizedTtl), 0u);
}

TEST(AnswerCache, KeepsForTtlAndCountsDown)
{
    AnswerCache c(8);
    c.put("88.100.1/a", CachedAnswer{1, 2, {1, 2, 3}, 0}, 60, kNow);
    auto hit = c.get("88.100.1/a", kNow + 10);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->ttl, 50u);
    EXPECT_EQ(hit->value_count, 2u);
    EXPECT_EQ(hit->values, (std::vector<std::uint8_t>{1, 2, 3}));
    EXPECT_FALSE(hit->negative());
    EXPECT_FALSE(c.get("88.100.1/a", kNow + 60));
    EXPECT_EQ(c.size(), 0u) << "an expired entry is dropped when seen";
}

TEST(AnswerCache, ZeroTtlKeepsNothingAndForgetsTheOldEntry)
{
    AnswerCache c(8);
    c.put("k", CachedAnswer{1, 1, {9}, 0}, 60, kNow);
    c.put("k", CachedAnswer{1, 1, {8}, 0}, 0, kNow);
    EXPECT_FALSE(c.get("k", kNow));
}

TEST(AnswerCache, NegativeEntries)
{
    AnswerCache c(8);
    c.put("88.100.1/none", CachedAnswer{100, 0, {}, 0}, 60, kNow);
    auto hit = c.get("88.100.1/none", kNow + 59);
    ASSERT_TRUE(hit);
    EXPECT_TRUE(hit->negative());
    EXPECT_EQ(hit->response_code, 100u);
    EXPECT_FALSE(c.get("88.100.1/none", kNow + 60));
}

TEST(AnswerCache, EvictsLeastRecentlyUsed)
{
    AnswerCache c(2);
    c.put("a", CachedAnswer{}, 60, kNow);
    c.put("b", CachedAnswer{}, 60, kNow);
    ASSERT_TRUE(c.get("a", kNow)); // a is now more recent than b
    c.put("c", CachedAnswer{}, 60, kNow);
    EXPECT_TRUE(c.get("a", kNow));
    EXPECT_FALSE(c.get("b", kNow));
    EXPECT_TRUE(c.get("c", kNow));
    EXPECT_EQ(c.size(), 2u);
}

TEST(AnswerCache, ZeroCapacityHoldsNothing)
{
    AnswerCache c(0);
    c.put("a", CachedAnswer{}, 60, kNow);
    EXPECT_FALSE(c.get("a", kNow));
}

TEST(ServiceCache, SitesExpire)
{
    ServiceCache c(4);
    wire::SiteInfo s;
    s.serial = 9;
    c.put("0.NA/88.100.1", {s}, 30, kNow);
    auto hit = c.get("0.NA/88.100.1", kNow + 29);
    ASSERT_TRUE(hit);
    ASSERT_EQ(hit->size(), 1u);
    EXPECT_EQ(hit->front().serial, 9);
    EXPECT_FALSE(c.get("0.NA/88.100.1", kNow + 30));
    c.put("0.NA/88.100.2", {s}, 0, kNow);
    EXPECT_FALSE(c.get("0.NA/88.100.2", kNow));
}

TEST(LruMap, ReplaceKeepsOneEntry)
{
    LruMap<int> m(2);
    m.put("a", 1);
    m.put("a", 2);
    EXPECT_EQ(m.size(), 1u);
    int got = -1;
    if (const int* p = m.find("a"))
        got = *p;
    EXPECT_EQ(got, 2);
}

} // namespace
} // namespace idpath::recursion
