#include "dataplane/querylog/query_log.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace idpath::querylog {
namespace {

constexpr std::uint64_t kNever = ~0ull / 2; // a heartbeat period no test reaches

/// Drains `ring` into `out`.
void drain(Ring& ring, std::vector<Record>& out)
{
    const auto r = ring.peek();
    out.insert(out.end(), r.first.begin(), r.first.end());
    out.insert(out.end(), r.second.begin(), r.second.end());
    ring.release(r.size());
}

/// Sum of the gaps in the sequence numbers of `records` (which start after `after`).
std::uint64_t gaps(const std::vector<Record>& records, std::uint64_t after = 0)
{
    std::uint64_t missing = 0, prev = after;
    for (const Record& r : records) {
        EXPECT_GT(r.seq, prev);
        missing += r.seq - prev - 1;
        prev = r.seq;
    }
    return missing;
}

/// A query as a transport writes it: answered (response octets set) or not.
void query(QueryLog& log, std::uint64_t rx_ns, bool answered = true)
{
    if (Record* r = log.begin_query(rx_ns))
        r->response_bytes = answered ? 100 : 0;
}

TEST(QueryLog, OffDoesNothing)
{
    QueryLog log;
    EXPECT_FALSE(log.enabled());
    EXPECT_EQ(log.begin_query(1), nullptr);
    log.end_burst(2);
    log.heartbeat(3);
    log.poll_idle(kNever);
    EXPECT_EQ(log.stats().produced.get(), 0u);
    EXPECT_EQ(log.stats().lost.get(), 0u);
}

TEST(QueryLog, RecordsArePublishedByEndBurstOnly)
{
    Ring ring(16);
    QueryLog log(&ring, 7, kNever);
    log.end_burst(1000); // the first burst announces the source with a heartbeat
    std::vector<Record> got;
    drain(ring, got);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, Kind::Heartbeat);
    EXPECT_EQ(got[0].seq, 1u);
    EXPECT_EQ(got[0].source, 7u);

    query(log, 5000);
    query(log, 5000, false);
    EXPECT_EQ(ring.peek().size(), 0u);
    log.end_burst(5750);
    got.clear();
    drain(ring, got);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].kind, Kind::Query);
    EXPECT_EQ(got[0].seq, 2u);
    EXPECT_EQ(got[0].time_ns, 5000u);
    EXPECT_EQ(got[0].source, 7u);
    EXPECT_EQ(got[0].latency_ns, 750u);
    EXPECT_EQ(got[1].seq, 3u);
    EXPECT_EQ(got[1].latency_ns, 0u); // no reply, no latency
}

TEST(QueryLog, LatencyIsClampedToItsField)
{
    Ring ring(4);
    QueryLog log(&ring, 1, kNever);
    log.end_burst(0);
    query(log, 10);
    log.end_burst(10 + (1ull << 40));
    std::vector<Record> got;
    drain(ring, got);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].latency_ns, 0xffffffffu);
}

TEST(QueryLog, OverflowIsCountedExactlyAndShowsAsSeqGaps)
{
    constexpr std::size_t kCapacity = 8;
    constexpr std::size_t kQueries = 20;
    Ring ring(kCapacity);
    ASSERT_EQ(ring.capacity(), kCapacity);
    QueryLog log(&ring, 3, 1'000'000);
    for (std::size_t i = 0; i < kQueries; ++i)
        query(log, 100);
    // The first end_burst is due a heartbeat too: with the ring full, it is lost as well.
    log.end_burst(200);
    EXPECT_EQ(log.stats().produced.get(), kQueries + 1);
    EXPECT_EQ(log.stats().lost.get(), kQueries + 1 - kCapacity);

    std::vector<Record> got;
    drain(ring, got);
    ASSERT_EQ(got.size(), kCapacity);
    for (std::size_t i = 0; i < kCapacity; ++i)
        EXPECT_EQ(got[i].seq, i + 1);

    // Room again: the next records carry on the numbering, so the gap is the loss.
    query(log, 300);
    log.end_burst(1'000'200); // a heartbeat is due
    drain(ring, got);
    ASSERT_EQ(got.size(), kCapacity + 2);
    EXPECT_EQ(got[kCapacity].seq, kQueries + 2);
    EXPECT_EQ(gaps(got), log.stats().lost.get());
    const Record& hb = got.back();
    EXPECT_EQ(hb.kind, Kind::Heartbeat);
    EXPECT_EQ(hb.time_ns, 1'000'200u);
    const HeartbeatBody body = heartbeat_body(hb);
    EXPECT_EQ(body.produced, hb.seq); // itself included
    EXPECT_EQ(body.produced, kQueries + 3);
    EXPECT_EQ(body.lost, kQueries + 1 - kCapacity);
}

TEST(QueryLog, RandomBurstsAndDrainsLoseOnlyWhatIsCounted)
{
    Ring ring(64);
    QueryLog log(&ring, 9, 5'000);
    std::mt19937 rng(6);
    std::vector<Record> got;
    std::uint64_t now = 0;
    for (int burst = 0; burst < 5000; ++burst) {
        now += rng() % 1000;
        const unsigned n = rng() % 33;
        for (unsigned i = 0; i < n; ++i)
            query(log, now);
        log.end_burst(now + 10);
        if (rng() % 4 == 0)
            drain(ring, got); // a slow consumer: the ring overflows now and then
    }
    drain(ring, got);
    ASSERT_GT(log.stats().lost.get(), 0u);
    EXPECT_EQ(got.size() + log.stats().lost.get(), log.stats().produced.get());
    EXPECT_EQ(gaps(got), log.stats().lost.get() - (log.stats().produced.get() - got.back().seq));
    // Every heartbeat that got through reports the counts as of itself.
    std::uint64_t heartbeats = 0;
    for (const Record& r : got) {
        if (r.kind != Kind::Heartbeat)
            continue;
        ++heartbeats;
        const HeartbeatBody b = heartbeat_body(r);
        EXPECT_EQ(b.produced, r.seq);
        std::uint64_t lost_before = r.seq; // produced minus delivered up to here
        for (const Record& q : got)
            lost_before -= q.seq <= r.seq ? 1 : 0;
        EXPECT_EQ(b.lost, lost_before);
    }
    EXPECT_GT(heartbeats, 10u);
}

TEST(QueryLog, IdleThreadsSendHeartbeatsWhenDue)
{
    Ring ring(8);
    QueryLog log(&ring, 2, 1000);
    log.poll_idle(50); // first one due at once
    log.poll_idle(60);
    log.poll_idle(1049);
    std::vector<Record> got;
    drain(ring, got);
    ASSERT_EQ(got.size(), 1u);
    log.poll_idle(1050);
    drain(ring, got);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].kind, Kind::Heartbeat);
    EXPECT_EQ(got[1].seq, 2u);
    EXPECT_EQ(got[1].time_ns, 1050u);
    EXPECT_EQ(heartbeat_body(got[1]).produced, 2u);
    EXPECT_EQ(heartbeat_body(got[1]).lost, 0u);
}

} // namespace
} // namespace idpath::querylog
