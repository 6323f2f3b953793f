#include "perf/gun/matcher.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <vector>

#include "answers.hpp"

namespace idpath::gun {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

class MatcherTest : public ::testing::Test {
protected:
    MatcherTest()
    {
        ids_.add("88.100.1/abc");
        ids_.add("88.100.1/def");
    }

    Matcher& matcher(std::uint32_t limit = 8, std::uint32_t first_id = 1000, FamilyMix family = FamilyMix::None)
    {
        generator_ = std::make_unique<QueryGenerator>(ids_, shape_, GeneratorConfig{}, 0);
        matcher_ =
            std::make_unique<Matcher>(MatcherConfig{limit, 100 * kMs, first_id, family}, *generator_, *stats_);
        return *matcher_;
    }

    std::uint64_t stat(Stat s) const { return stats_->stat[static_cast<std::size_t>(s)].get(); }
    std::uint64_t family(bool ipv6, FamilyStat s) const { return stats_->by_family[family_slot(ipv6, s)].get(); }
    std::uint64_t rc(std::uint32_t code) const { return stats_->by_rc[code].get(); }

    static void deliver(Matcher& m, const test::Bytes& d, std::uint64_t now) { m.on_datagram(d, now); }

    IdentifierSet ids_;
    QueryShape shape_;
    std::unique_ptr<WorkerStats> stats_ = std::make_unique<WorkerStats>();
    std::unique_ptr<QueryGenerator> generator_;
    std::unique_ptr<Matcher> matcher_;
};

const QuerySpec kAbc{0, 0, false};
const QuerySpec kDef{0, 1, false};

TEST_F(MatcherTest, MatchesAnAnswerByRequestId)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 10 * kMs);
    EXPECT_EQ(id, 1000u);
    EXPECT_EQ(m.outstanding(), 1u);
    deliver(m, test::make_answer({.request_id = id, .values = 2}), 12 * kMs);
    EXPECT_EQ(m.outstanding(), 0u);
    EXPECT_EQ(stat(Stat::Answered), 1u);
    EXPECT_EQ(stat(Stat::Values), 2u);
    EXPECT_EQ(stat(Stat::DatagramsIn), 1u);
    EXPECT_EQ(rc(1), 1u);
    Histogram h;
    stats_->latency.read_into(h);
    EXPECT_EQ(h.count(), 1u);
    EXPECT_NEAR(static_cast<double>(h.max()), 2.0 * kMs, 2.0 * kMs / 64);
}

TEST_F(MatcherTest, AnswersMayComeInAnyOrder)
{
    Matcher& m = matcher();
    const std::uint32_t a = m.issue(kAbc, 0);
    const std::uint32_t b = m.issue(kDef, 0);
    deliver(m, test::make_answer({.request_id = b, .handle = "88.100.1/def"}), 1);
    deliver(m, test::make_answer({.request_id = a, .response_code = 100}), 2);
    EXPECT_EQ(stat(Stat::Answered), 2u);
    EXPECT_EQ(rc(1), 1u);
    EXPECT_EQ(rc(100), 1u);
}

TEST_F(MatcherTest, SecondCopyIsADuplicate)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 0);
    const auto answer = test::make_answer({.request_id = id});
    deliver(m, answer, 1);
    deliver(m, answer, 2);
    EXPECT_EQ(stat(Stat::Answered), 1u);
    EXPECT_EQ(stat(Stat::Duplicate), 1u);
}

TEST_F(MatcherTest, UnknownRequestIdIsWrong)
{
    Matcher& m = matcher();
    (void)m.issue(kAbc, 0);
    deliver(m, test::make_answer({.request_id = 999}), 1);   // before the first id
    deliver(m, test::make_answer({.request_id = 5000}), 1);  // never issued
    EXPECT_EQ(stat(Stat::Wrong), 2u);
    EXPECT_EQ(stat(Stat::Answered), 0u);
    EXPECT_EQ(m.outstanding(), 1u);
}

TEST_F(MatcherTest, AnswerNamingAnotherHandleIsWrongAndRejectsTheQuery)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 0);
    deliver(m, test::make_answer({.request_id = id, .handle = "88.100.1/def"}), 1);
    EXPECT_EQ(stat(Stat::Wrong), 1u);
    EXPECT_EQ(stat(Stat::Rejected), 1u);
    EXPECT_EQ(stat(Stat::Answered), 0u);
    EXPECT_EQ(m.outstanding(), 0u);
}

TEST_F(MatcherTest, GarbageIsMalformed)
{
    Matcher& m = matcher();
    (void)m.issue(kAbc, 0);
    deliver(m, test::Bytes(10, 0x02), 1);
    deliver(m, {}, 1); // what a port hands over for a datagram too long for its buffer
    EXPECT_EQ(stat(Stat::Malformed), 2u);
    EXPECT_EQ(m.outstanding(), 1u);
}

TEST_F(MatcherTest, TimeoutLosesTheQueryAndALaterAnswerIsLate)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 0);
    const std::uint32_t id2 = m.issue(kDef, 50 * kMs);
    m.expire(99 * kMs);
    EXPECT_EQ(stat(Stat::Lost), 0u);
    m.expire(100 * kMs);
    EXPECT_EQ(stat(Stat::Lost), 1u);
    EXPECT_EQ(m.outstanding(), 1u);
    deliver(m, test::make_answer({.request_id = id}), 101 * kMs);
    EXPECT_EQ(stat(Stat::Late), 1u);
    EXPECT_EQ(stat(Stat::Answered), 0u);
    deliver(m, test::make_answer({.request_id = id2, .handle = "88.100.1/def"}), 101 * kMs);
    EXPECT_EQ(stat(Stat::Answered), 1u);
}

TEST_F(MatcherTest, ExpireAllLosesEverythingInFlight)
{
    Matcher& m = matcher();
    for (int i = 0; i < 5; ++i)
        (void)m.issue(kAbc, 0);
    m.expire_all();
    EXPECT_EQ(stat(Stat::Lost), 5u);
    EXPECT_EQ(m.outstanding(), 0u);
}

TEST_F(MatcherTest, ReassemblesAMultiDatagramAnswerInAnyOrder)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 0);
    const auto whole = test::make_answer({.request_id = id, .values = 12, .value_size = 80});
    const auto parts = test::split(whole);
    ASSERT_EQ(parts.size(), 3u);
    deliver(m, parts[2], 1);
    deliver(m, parts[0], 2);
    deliver(m, parts[0], 3); // a chunk twice
    EXPECT_EQ(stat(Stat::Answered), 0u);
    deliver(m, parts[1], 4);
    EXPECT_EQ(stat(Stat::Answered), 1u);
    EXPECT_EQ(stat(Stat::MultiDatagram), 1u);
    EXPECT_EQ(stat(Stat::Values), 12u);
    EXPECT_EQ(stat(Stat::Duplicate), 1u);
    EXPECT_EQ(stat(Stat::DatagramsIn), 4u);
    deliver(m, parts[1], 5); // after completion
    EXPECT_EQ(stat(Stat::Duplicate), 2u);
}

TEST_F(MatcherTest, ChunksDisagreeingOnLengthAreMalformed)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 0);
    const auto a = test::split(test::make_answer({.request_id = id, .values = 12, .value_size = 80}));
    const auto b = test::split(test::make_answer({.request_id = id, .values = 14, .value_size = 80}));
    deliver(m, a[0], 1);
    deliver(m, b[1], 2);
    EXPECT_EQ(stat(Stat::Malformed), 1u);
    deliver(m, a[1], 3);
    deliver(m, a[2], 3);
    EXPECT_EQ(stat(Stat::Answered), 1u);
}

TEST_F(MatcherTest, TcpFrameWithALargeAnswerIsOneFrame)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 0);
    deliver(m, test::make_answer({.request_id = id, .values = 50, .value_size = 200}), 1);
    EXPECT_EQ(stat(Stat::Answered), 1u);
    EXPECT_EQ(stat(Stat::MultiDatagram), 0u);
}

TEST_F(MatcherTest, ManyReassembliesAtOnceStillCount)
{
    constexpr std::uint32_t kQueries = Matcher::kMaxReassemblyBuffers + 20;
    Matcher& m = matcher(kQueries);
    std::vector<std::vector<test::Bytes>> parts;
    for (std::uint32_t i = 0; i < kQueries; ++i) {
        const std::uint32_t id = m.issue(kAbc, 0);
        parts.push_back(test::split(test::make_answer({.request_id = id, .values = 12, .value_size = 80})));
    }
    for (const auto& p : parts)
        deliver(m, p[0], 1); // every answer holds a buffer, or has none left
    for (const auto& p : parts) {
        deliver(m, p[1], 2);
        deliver(m, p[2], 2);
    }
    EXPECT_EQ(stat(Stat::Answered), kQueries);
    EXPECT_EQ(rc(1), kQueries);
    EXPECT_EQ(m.outstanding(), 0u);
}

TEST_F(MatcherTest, CancelledQueryIsForgotten)
{
    Matcher& m = matcher();
    const std::uint32_t id = m.issue(kAbc, 0);
    m.cancel(id);
    EXPECT_EQ(m.outstanding(), 0u);
    deliver(m, test::make_answer({.request_id = id}), 1);
    EXPECT_EQ(stat(Stat::Wrong), 1u);
    m.expire_all();
    EXPECT_EQ(stat(Stat::Lost), 0u);
}

TEST_F(MatcherTest, LimitAndSlotReuseKeepIdsUnique)
{
    Matcher& m = matcher(4, 0xfffffff0u); // ids wrap past 2^32 during the test
    EXPECT_EQ(m.limit(), 4u);
    const std::uint32_t lingering = m.issue(kDef, 0); // never answered until the end
    std::set<std::uint32_t> seen{lingering};
    for (int round = 0; round < 200; ++round) {
        std::vector<std::uint32_t> ids;
        while (!m.full())
            ids.push_back(m.issue(kAbc, 1));
        EXPECT_EQ(ids.size(), 3u);
        for (const std::uint32_t id : ids) {
            EXPECT_TRUE(seen.insert(id).second) << id;
            deliver(m, test::make_answer({.request_id = id}), 2);
        }
    }
    EXPECT_EQ(stat(Stat::Answered), 600u);
    deliver(m, test::make_answer({.request_id = lingering, .handle = "88.100.1/def"}), 3);
    EXPECT_EQ(stat(Stat::Answered), 601u);
    EXPECT_EQ(stat(Stat::Wrong) + stat(Stat::Late) + stat(Stat::Duplicate), 0u);
}

TEST_F(MatcherTest, VeryOldAnswerAfterSlotReuseIsLate)
{
    Matcher& m = matcher(1);
    const std::uint32_t first = m.issue(kAbc, 0);
    deliver(m, test::make_answer({.request_id = first}), 1);
    for (int i = 0; i < 1000; ++i)
        deliver(m, test::make_answer({.request_id = m.issue(kAbc, 2)}), 3);
    deliver(m, test::make_answer({.request_id = first}), 4);
    EXPECT_EQ(stat(Stat::Late), 1u); // the slot went on to other ids: too old to tell more
}

TEST_F(MatcherTest, OutcomesAreCountedPerFamilyInAMixedRun)
{
    // ByRequestId: each query's family from its RequestId, as the AF_XDP port sends it.
    Matcher& m = matcher(64, 1000, FamilyMix::ByRequestId);
    EXPECT_TRUE(m.counts_families());
    std::uint64_t issued[2] = {0, 0};
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < 40; ++i) {
        ids.push_back(m.issue(kAbc, 0));
        ++issued[m.is_ipv6(ids.back()) ? 1 : 0];
        EXPECT_EQ(m.is_ipv6(ids.back()), query_is_ipv6(FamilyMix::ByRequestId, ids.back()));
    }
    ASSERT_GT(issued[0], 10u);
    ASSERT_GT(issued[1], 10u);
    std::uint64_t answered[2] = {0, 0};
    std::uint64_t rejected[2] = {0, 0};
    for (std::size_t i = 0; i < ids.size(); i += 2) { // every other one answered...
        deliver(m, test::make_answer({.request_id = ids[i]}), 1 * kMs);
        ++answered[m.is_ipv6(ids[i]) ? 1 : 0];
    }
    deliver(m, test::make_answer({.request_id = ids[1], .handle = "88.100.1/zzz"}), 1 * kMs); // ...one wrongly
    ++rejected[m.is_ipv6(ids[1]) ? 1 : 0];
    m.expire(500 * kMs); // ...and the rest lost
    for (const bool v6 : {false, true}) {
        EXPECT_EQ(family(v6, FamilyStat::Answered), answered[v6]);
        EXPECT_EQ(family(v6, FamilyStat::Rejected), rejected[v6]);
        EXPECT_EQ(family(v6, FamilyStat::Lost), issued[v6] - answered[v6] - rejected[v6]);
    }
    EXPECT_EQ(family(false, FamilyStat::Answered) + family(true, FamilyStat::Answered), stat(Stat::Answered));
    EXPECT_EQ(family(false, FamilyStat::Lost) + family(true, FamilyStat::Lost), stat(Stat::Lost));
}

TEST_F(MatcherTest, AFixedFamilyOrNoneAtAll)
{
    Matcher& six = matcher(8, 1000, FamilyMix::Ipv6); // a socket of a mixed run
    deliver(six, test::make_answer({.request_id = six.issue(kAbc, 0)}), 1);
    six.issue(kAbc, 0);
    six.expire_all();
    EXPECT_EQ(family(true, FamilyStat::Answered), 1u);
    EXPECT_EQ(family(true, FamilyStat::Lost), 1u);
    EXPECT_EQ(family(false, FamilyStat::Answered) + family(false, FamilyStat::Lost), 0u);
    stats_ = std::make_unique<WorkerStats>();
    Matcher& one = matcher(); // one SERVER: nothing per family
    EXPECT_FALSE(one.counts_families());
    deliver(one, test::make_answer({.request_id = one.issue(kAbc, 0)}), 1);
    EXPECT_EQ(stat(Stat::Answered), 1u);
    for (std::size_t i = 0; i < stats_->by_family.size(); ++i)
        EXPECT_EQ(stats_->by_family[i].get(), 0u);
}

} // namespace
} // namespace idpath::gun
