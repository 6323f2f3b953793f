#include "perf/datagen/generator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "dataplane/table/handle_key.hpp"
#include "perf/datagen/json_line.hpp"
#include "perf/datagen/values.hpp"

namespace idpath::datagen {
namespace {

constexpr std::uint64_t kSample = 100'000;

std::string lines(const Generator& g, std::uint64_t from, std::uint64_t count)
{
    std::string out;
    Identifier id;
    for (std::uint64_t i = from; i < from + count; ++i) {
        g.make(i, id);
        append_json_line(id, out);
    }
    return out;
}

std::string_view suffix_of(std::string_view handle)
{
    return handle.substr(handle.find('/') + 1);
}

TEST(Generator, SameSeedSameOutput)
{
    const Generator a({});
    const Generator b({});
    EXPECT_EQ(lines(a, 0, 2000), lines(b, 0, 2000));
}

TEST(Generator, OtherSeedOtherOutput)
{
    GeneratorConfig c;
    c.seed = 2;
    const Generator a({});
    const Generator b(c);
    Identifier x;
    Identifier y;
    std::size_t same_handles = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) {
        a.make(i, x);
        b.make(i, y);
        same_handles += x.handle == y.handle;
    }
    EXPECT_NE(lines(a, 0, 1000), lines(b, 0, 1000));
    // Only the shortest suffixes can coincide (same kind letters, same serial).
    EXPECT_LT(same_handles, 200u);
}

TEST(Generator, IdentifierDependsOnlyOnItsIndex)
{
    const Generator g({});
    // Generated in another order and alone, identifier 777 is the same line.
    EXPECT_EQ(lines(g, 777, 1), lines(g, 0, 1000).substr(lines(g, 0, 777).size(), lines(g, 777, 1).size()));
    Identifier id;
    g.make(777, id);
    EXPECT_EQ(g.handle(777), id.handle);
}

TEST(Generator, HandlesAreUniqueIgnoringCase)
{
    GeneratorConfig c;
    c.prefixes = {"88.100.1", "88.200.7", "86.1000.22"};
    const Generator g(c);
    std::unordered_set<std::string> seen;
    std::string h;
    for (std::uint64_t i = 0; i < kSample; ++i) {
        h.clear();
        g.append_handle(i, h);
        ASSERT_TRUE(seen.insert(table::normalize(h)).second) << h;
    }
}

TEST(Generator, SpreadsOverPrefixes)
{
    GeneratorConfig c;
    c.prefixes = {"88.100.1", "88.200.7"};
    const Generator g(c);
    EXPECT_TRUE(g.handle(0).starts_with("88.100.1/"));
    EXPECT_TRUE(g.handle(1).starts_with("88.200.7/"));
    Identifier id;
    g.make(1, id);
    for (const GenValue& v : id.values()) {
        if (v.admin) {
            EXPECT_EQ(v.data, "0.NA/88.200.7");
        }
    }
}

TEST(Generator, SuffixLengthsAreMostlyShortWithALongTail)
{
    const Generator g({});
    std::vector<std::size_t> lengths;
    for (std::uint64_t i = 0; i < kSample; ++i)
        lengths.push_back(suffix_of(g.handle(i)).size());
    std::sort(lengths.begin(), lengths.end());
    EXPECT_GE(lengths.front(), kMinSuffixLength);
    EXPECT_LE(lengths.back(), kMaxSuffixLength);
    EXPECT_LE(lengths[lengths.size() / 2], 16u) << "median";
    EXPECT_GE(lengths[lengths.size() * 99 / 100], 60u) << "99th percentile";
    EXPECT_GE(lengths.back(), 95u);
    // Zero skew: lengths spread evenly, so the median is mid-range.
    GeneratorConfig flat;
    flat.zipf_s = 0;
    const Generator u(flat);
    std::vector<std::size_t> uniform;
    for (std::uint64_t i = 0; i < 20'000; ++i)
        uniform.push_back(suffix_of(u.handle(i)).size());
    std::sort(uniform.begin(), uniform.end());
    EXPECT_GT(uniform[uniform.size() / 2], 40u);
}

TEST(Generator, ShortSuffixesLookLikeSerials)
{
    const Generator g({});
    std::size_t serial_like = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) {
        const std::string h = g.handle(i);
        serial_like += suffix_of(h).find('/') == std::string_view::npos;
        EXPECT_TRUE(h.ends_with(std::to_string(i))) << h;
    }
    EXPECT_GT(serial_like, 500u);
}

TEST(Generator, ValueCountsAndDataSizes)
{
    const Generator g({});
    Identifier id;
    std::vector<std::size_t> counts(kMaxValues + 1);
    std::size_t total = 0;
    std::size_t with_ttl = 0;
    std::size_t non_public = 0;
    std::size_t with_admin = 0;
    std::size_t below_150 = 0;
    std::size_t above_350 = 0;
    for (std::uint64_t i = 0; i < kSample; ++i) {
        g.make(i, id);
        ASSERT_GE(id.count, 1u);
        ASSERT_LE(id.count, kMaxValues);
        ++counts[id.count];
        const std::size_t size = id.data_size();
        ASSERT_GE(size, kMinDataOctets - 5) << id.handle;
        ASSERT_LE(size, kMaxDataOctets + 10) << id.handle;
        total += size;
        below_150 += size < 150;
        above_350 += size > 350;
        EXPECT_EQ(id.values()[0].index, 1u);
        EXPECT_EQ(id.values()[0].type, "URL");
        EXPECT_TRUE(id.values()[0].data.starts_with("https://"));
        std::uint32_t last_index = 0;
        for (const GenValue& v : id.values()) {
            EXPECT_GT(v.index, last_index) << "values in index order";
            last_index = v.index;
            with_ttl += v.ttl_given;
            non_public += !v.permissions.empty();
            if (v.admin) {
                ++with_admin;
                EXPECT_EQ(v.index, 100u);
                EXPECT_EQ(v.admin_index, kAdminIndex);
                EXPECT_EQ(v.admin_permissions, kDefaultAdminPermissions);
            }
        }
    }
    for (std::size_t n = 1; n <= kMaxValues; ++n)
        EXPECT_GT(counts[n], kSample / 20) << n << " values";
    const double mean = static_cast<double>(total) / kSample;
    EXPECT_GT(mean, 180.0);
    EXPECT_LT(mean, 300.0);
    EXPECT_GT(below_150, kSample / 50); // only records of one or two values are this small
    EXPECT_GT(above_350, kSample / 20);
    EXPECT_GT(with_ttl, kSample / 10);
    EXPECT_GT(non_public, kSample / 100);
    EXPECT_GT(with_admin, kSample * 8 / 10);
}

} // namespace
} // namespace idpath::datagen
