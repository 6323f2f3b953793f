#include "controlplane/app/cache_expiry.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace idpath::app {
namespace {

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

TEST(CacheExpiry, TakesWhatExpiredInOrderOnce)
{
    CacheExpiry e;
    e.add("A", 100);
    e.add("B", 102);
    e.add("C", 101);
    EXPECT_EQ(e.size(), 3u);
    EXPECT_TRUE(e.take_expired(99).empty());
    EXPECT_EQ(e.take_expired(101), (std::vector<std::string>{"A", "C"}));
    EXPECT_TRUE(e.take_expired(101).empty());
    EXPECT_FALSE(e.contains("A"));
    EXPECT_TRUE(e.contains("B"));
    EXPECT_EQ(e.take_expired(1000), (std::vector<std::string>{"B"}));
    EXPECT_EQ(e.size(), 0u);
}

TEST(CacheExpiry, ALaterAddSupersedesTheEarlierExpiry)
{
    CacheExpiry e;
    e.add("A", 100);
    e.add("A", 200); // cached again
    EXPECT_TRUE(e.take_expired(150).empty());
    EXPECT_EQ(e.take_expired(200), (std::vector<std::string>{"A"}));
    // An earlier expiry after a later one counts too: the latest add decides.
    e.add("B", 300);
    e.add("B", 120);
    EXPECT_EQ(e.take_expired(130), (std::vector<std::string>{"B"}));
    EXPECT_TRUE(e.take_expired(400).empty());
}

TEST(CacheExpiry, ForgottenAndClearedHandlesNeverExpire)
{
    CacheExpiry e;
    e.add("A", 100);
    e.add("B", 100);
    e.forget("A");
    EXPECT_EQ(e.take_expired(100), (std::vector<std::string>{"B"}));
    e.add("C", 5);
    e.clear();
    EXPECT_TRUE(e.take_expired(1000).empty());
}

TEST(CacheExpiry, ManyReAddsKeepTheHeapBounded)
{
    CacheExpiry e;
    for (std::uint64_t t = 0; t < 100000; ++t)
        e.add("hot", 1000 + t);
    e.add("cold", 50);
    EXPECT_EQ(e.size(), 2u);
    EXPECT_EQ(e.take_expired(60), (std::vector<std::string>{"cold"}));
    EXPECT_EQ(sorted(e.take_expired(1000 + 99999)), (std::vector<std::string>{"hot"}));
}

} // namespace
} // namespace idpath::app
