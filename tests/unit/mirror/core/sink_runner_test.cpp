// SinkRunner (controlplane/mirror/core/sink_runner.hpp) with a sink that fails on demand:
// outages and recovery lose nothing and keep order, replays are marked, every loss is counted
// by reason, and batches a transport hands back are spooled.

#include <gtest/gtest.h>

#include <algorithm>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/core/event_log.hpp"
#include "controlplane/mirror/core/sink_runner.hpp"
#include "tests/unit/mirror/core/core_test_support.hpp"

namespace idpath::mirror {
namespace {

using test::batch;
using test::eventually;
using test::FakeSink;
using test::TempDir;

const Origin kOrigin{"node-1", "test"};
constexpr std::size_t kPerBatch = 3;

struct Rig {
    explicit Rig(const std::filesystem::path& spool_dir, std::uint64_t spool_bytes = 1u << 30,
                 std::size_t queue = 64, bool start_ready = true)
    {
        auto s = std::make_unique<FakeSink>();
        sink = s.get();
        sink->set_ready(start_ready);
        std::unique_ptr<Spool> spool;
        if (!spool_dir.empty()) {
            auto opened = Spool::open({spool_dir, spool_bytes, 0}, kOrigin);
            EXPECT_TRUE(opened);
            if (opened)
                spool = std::move(*opened);
        }
        SinkRunnerOptions o;
        o.name = "fake-1";
        o.queue_batches = queue;
        o.retry_min = std::chrono::milliseconds(5);
        o.retry_max = std::chrono::milliseconds(20);
        o.tick = std::chrono::milliseconds(10);
        runner = std::make_unique<SinkRunner>(std::move(s), std::move(spool), &events, o);
    }

    /// Offers batches first_id .. first_id + n - 1, each kPerBatch records of source 1 with
    /// consecutive seqs.
    void offer(std::uint64_t first_id, std::size_t n)
    {
        for (std::uint64_t id = first_id; id < first_id + n; ++id)
            runner->offer(std::make_shared<const Batch>(batch(id, 1, (id - 1) * kPerBatch + 1, kPerBatch)));
    }

    EventLog events{1024};
    FakeSink* sink = nullptr;
    std::unique_ptr<SinkRunner> runner;
};

std::uint64_t get(const std::atomic<std::uint64_t>& a)
{
    return a.load();
}

/// Every seq of source 1 from 1 to `last`, exactly once and in order, across `delivered`.
void expect_all_seqs_in_order(const std::vector<Batch>& delivered, std::uint64_t last)
{
    std::vector<std::uint64_t> seqs;
    for (const auto& b : delivered)
        for (const auto& r : b.records)
            seqs.push_back(r.seq);
    std::vector<std::uint64_t> want(last);
    for (std::uint64_t i = 0; i < last; ++i)
        want[i] = i + 1;
    EXPECT_EQ(seqs, want);
}

TEST(SinkRunnerTest, DeliversLiveBatchesInOrderAndTicks)
{
    Rig rig({});
    rig.runner->start();
    rig.offer(1, 20);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 20; }));
    ASSERT_TRUE(eventually([&] { return rig.sink->ticks() >= 2; }));
    rig.runner->stop(std::chrono::milliseconds(100));
    const auto got = rig.sink->delivered();
    expect_all_seqs_in_order(got, 20 * kPerBatch);
    EXPECT_TRUE(std::none_of(got.begin(), got.end(), [](const Batch& b) { return b.replayed; }));
    const auto& m = rig.runner->metrics();
    EXPECT_EQ(get(m.sent.batches), 20u);
    EXPECT_EQ(get(m.sent.records), 20 * kPerBatch);
    EXPECT_EQ(get(m.replayed.batches), 0u);
    EXPECT_EQ(m.state.load(), SinkState::Up);
}

TEST(SinkRunnerTest, AnOutageAndRecoveryLoseNothingAndKeepOrder)
{
    TempDir dir;
    Rig rig(dir.path());
    rig.runner->start();
    rig.offer(1, 5);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 5; }));

    rig.sink->set_fail(true); // the collector goes away
    rig.offer(6, 10);
    ASSERT_TRUE(eventually([&] { return get(rig.runner->metrics().spooled.batches) == 10; }));
    EXPECT_EQ(rig.runner->metrics().state.load(), SinkState::Down);
    EXPECT_EQ(rig.runner->last_error(), "fake: connection refused");
    EXPECT_EQ(get(rig.runner->metrics().spool_batches), 10u);

    rig.sink->set_fail(false); // and comes back; live traffic continues meanwhile
    rig.offer(16, 10);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 25; }));
    rig.runner->stop(std::chrono::milliseconds(100));

    const auto got = rig.sink->delivered();
    expect_all_seqs_in_order(got, 25 * kPerBatch);
    for (std::size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE(i);
        if (got[i].id <= 5) {
            EXPECT_FALSE(got[i].replayed);
        } else if (got[i].id <= 15) {
            EXPECT_TRUE(got[i].replayed); // spooled during the outage
        }
    }
    const auto& m = rig.runner->metrics();
    EXPECT_EQ(get(m.sent.batches), 25u);
    EXPECT_GE(get(m.replayed.batches), 10u);
    EXPECT_EQ(get(m.spooled.batches), get(m.replayed.batches));
    for (const auto& d : m.dropped)
        EXPECT_EQ(get(d.records), 0u);
    EXPECT_GE(get(m.delivery_failures), 1u);
    EXPECT_EQ(get(m.spool_batches), 0u);
    EXPECT_EQ(get(m.spool_bytes), 0u);
    EXPECT_EQ(m.state.load(), SinkState::Up);

    // The state changes went into the event stream.
    std::vector<Event> ev;
    rig.events.drain(ev, 100);
    ASSERT_GE(ev.size(), 2u);
    EXPECT_EQ(ev.front().category, "sink.state");
    EXPECT_EQ(ev.front().fields[0], (std::pair<std::string, std::string>{"sink", "fake-1"}));
    EXPECT_EQ(ev.front().fields[1].second, "down");
    EXPECT_EQ(ev.back().fields[1].second, "up");
}

TEST(SinkRunnerTest, ASinkNotReadyGetsNoDeliveriesAndItsBatchesSpool)
{
    TempDir dir;
    Rig rig(dir.path(), 1u << 30, 64, false);
    rig.runner->start();
    rig.offer(1, 8);
    ASSERT_TRUE(eventually([&] { return get(rig.runner->metrics().spooled.batches) == 8; }));
    EXPECT_EQ(rig.sink->calls(), 0u);
    EXPECT_EQ(rig.runner->metrics().state.load(), SinkState::Backoff);
    rig.sink->set_ready(true);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 8; }));
    rig.runner->stop(std::chrono::milliseconds(100));
    const auto got = rig.sink->delivered();
    expect_all_seqs_in_order(got, 8 * kPerBatch);
    EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](const Batch& b) { return b.replayed; }));
}

TEST(SinkRunnerTest, AFullSpoolDropsTheExactRecordsAndCountsThemByReason)
{
    TempDir dir;
    std::string one;
    encode_binary(batch(1, 1, 1, kPerBatch), kOrigin, one);
    constexpr std::size_t kKept = 4, kOffered = 11;
    Rig rig(dir.path(), kKept * one.size() + one.size() / 2, 64, false);
    rig.runner->start();
    rig.offer(1, kOffered);
    const auto& m = rig.runner->metrics();
    ASSERT_TRUE(eventually([&] {
        return get(m.spooled.batches) + get(m.dropped_for(DropReason::SpoolFull).batches) == kOffered;
    }));
    EXPECT_EQ(get(m.spooled.batches), kKept);
    EXPECT_EQ(get(m.dropped_for(DropReason::SpoolFull).batches), kOffered - kKept);
    EXPECT_EQ(get(m.dropped_for(DropReason::SpoolFull).records), (kOffered - kKept) * kPerBatch);
    EXPECT_EQ(get(m.dropped_for(DropReason::SpoolError).records), 0u);
    EXPECT_EQ(get(m.dropped_for(DropReason::NoSpool).records), 0u);
    EXPECT_EQ(rig.runner->last_error(), "spool: full");

    rig.sink->set_ready(true);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == kKept; }));
    rig.runner->stop(std::chrono::milliseconds(100));
    expect_all_seqs_in_order(rig.sink->delivered(), kKept * kPerBatch); // the oldest were kept
    EXPECT_EQ(get(m.sent.records) + get(m.dropped_for(DropReason::SpoolFull).records),
              kOffered * kPerBatch);
}

TEST(SinkRunnerTest, WithoutASpoolTheQueueWaitsAndTheRestIsCountedAsNoSpool)
{
    Rig rig({}, 0, 4, false);
    rig.runner->start();
    const auto& m = rig.runner->metrics();
    ASSERT_TRUE(eventually([&] { return m.state.load() == SinkState::Backoff; }));
    rig.offer(1, 10);
    EXPECT_EQ(get(m.dropped_for(DropReason::NoSpool).batches), 6u);
    EXPECT_EQ(get(m.dropped_for(DropReason::NoSpool).records), 6 * kPerBatch);
    EXPECT_EQ(get(m.queue_batches), 4u);
    rig.sink->set_ready(true);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 4; }));
    expect_all_seqs_in_order(rig.sink->delivered(), 4 * kPerBatch);

    rig.sink->set_fail(true); // a failed delivery has nowhere to go either
    rig.offer(11, 1);
    ASSERT_TRUE(eventually([&] { return get(m.dropped_for(DropReason::NoSpool).batches) == 7; }));
    rig.runner->stop(std::chrono::milliseconds(50));
    EXPECT_EQ(get(m.spooled.batches), 0u);
}

TEST(SinkRunnerTest, BatchesTheTransportHandsBackAreSpooledAndReplayed)
{
    TempDir dir;
    Rig rig(dir.path());
    rig.runner->start();
    rig.offer(1, 3);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 3; }));
    // The transport took batch 2 and later failed it (a delivery report, on its own thread).
    std::thread reporter([&] { rig.sink->undelivered(batch(2, 1, 4, kPerBatch)); });
    reporter.join();
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 4; }));
    rig.runner->stop(std::chrono::milliseconds(100));
    const auto got = rig.sink->delivered();
    EXPECT_EQ(got.back().id, 2u);
    EXPECT_TRUE(got.back().replayed);
    EXPECT_EQ(got.back().records.front().seq, 4u);
    const auto& m = rig.runner->metrics();
    EXPECT_EQ(get(m.undelivered.batches), 1u);
    EXPECT_EQ(get(m.spooled.batches), 1u);
    EXPECT_EQ(get(m.replayed.batches), 1u);
}

TEST(SinkRunnerTest, StopSpoolsWhatIsLeftAndTheNextRunReplaysIt)
{
    TempDir dir;
    {
        Rig rig(dir.path());
        rig.sink->set_fail(true);
        rig.runner->start();
        rig.offer(1, 6);
        ASSERT_TRUE(eventually([&] { return get(rig.runner->metrics().spooled.batches) == 6; }));
        rig.runner->stop(std::chrono::milliseconds(20));
        EXPECT_EQ(rig.sink->delivered_count(), 0u);
    }
    Rig next(dir.path()); // idpathd restarted
    EXPECT_EQ(get(next.runner->metrics().spool_batches), 6u);
    next.runner->start();
    next.offer(7, 2);
    ASSERT_TRUE(eventually([&] { return next.sink->delivered_count() == 8; }));
    next.runner->stop(std::chrono::milliseconds(100));
    const auto got = next.sink->delivered();
    expect_all_seqs_in_order(got, 8 * kPerBatch);
}

TEST(SinkRunnerTest, LagIsTheAgeOfTheOldestUndeliveredRecord)
{
    TempDir dir;
    Rig rig(dir.path(), 1u << 30, 64, false);
    rig.runner->start();
    const std::uint64_t five_s_ago = realtime_ns() - 5'000'000'000ull;
    rig.runner->offer(std::make_shared<const Batch>(batch(1, 1, 1, 2, five_s_ago)));
    const auto& m = rig.runner->metrics();
    ASSERT_TRUE(eventually([&] { return m.lag_ms(realtime_ns()) >= 5000; }));
    EXPECT_LT(m.lag_ms(realtime_ns()), 60'000u);
    rig.sink->set_ready(true);
    ASSERT_TRUE(eventually([&] { return rig.sink->delivered_count() == 1; }));
    ASSERT_TRUE(eventually([&] { return m.lag_ms(realtime_ns()) == 0; }));
    rig.runner->stop(std::chrono::milliseconds(50));
}

} // namespace
} // namespace idpath::mirror
