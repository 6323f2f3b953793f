// The exporter (controlplane/mirror/core/exporter.hpp): batches cut by size and by time, order
// per source kept, ring overflow and event loss counted exactly and agreeing with the in-band
// heartbeats, everything drained at stop, and every sink given every batch.

#include <gtest/gtest.h>

#include <map>

#include "controlplane/mirror/core/exporter.hpp"
#include "controlplane/mirror/core/mirror_stats.hpp"
#include "tests/unit/mirror/core/core_test_support.hpp"

namespace idpath::mirror {
namespace {

using test::eventually;
using test::FakeSink;

struct Rig {
    explicit Rig(ExporterOptions o, std::size_t ring_capacity = 4096, std::size_t sources = 1,
                 std::size_t sinks = 1)
        : rings(ring_capacity)
    {
        for (std::size_t i = 0; i < sources; ++i)
            rings.add(static_cast<std::uint16_t>(i), "udp-" + std::to_string(i));
        std::vector<std::unique_ptr<SinkRunner>> runners;
        for (std::size_t i = 0; i < sinks; ++i) {
            auto s = std::make_unique<FakeSink>();
            fakes.push_back(s.get());
            runners.push_back(std::make_unique<SinkRunner>(std::move(s), nullptr, &events,
                                                           SinkRunnerOptions{"fake-" + std::to_string(i)}));
        }
        exporter = std::make_unique<Exporter>(rings, events, std::move(runners), o);
    }

    /// Writes `n` records with the next seqs of `source` straight into its ring.
    void produce(std::size_t source, std::size_t n)
    {
        auto& e = rings.entries()[source];
        for (std::size_t i = 0; i < n; ++i) {
            querylog::Record* r = e.ring.claim();
            ASSERT_NE(r, nullptr);
            *r = test::record(e.source, ++seqs[source]);
        }
        e.ring.publish();
    }

    RingSet rings;
    EventLog events{16};
    std::vector<FakeSink*> fakes;
    std::unique_ptr<Exporter> exporter;
    std::map<std::size_t, std::uint64_t> seqs;
};

ExporterOptions options(std::size_t records, std::chrono::milliseconds interval)
{
    ExporterOptions o;
    o.batch_records = records;
    o.batch_interval = interval;
    return o;
}

TEST(ExporterTest, CutsFullBatchesBySize)
{
    Rig rig(options(100, std::chrono::hours(1)));
    rig.produce(0, 1000);
    rig.exporter->start();
    ASSERT_TRUE(eventually([&] { return rig.fakes[0]->delivered_count() == 10; }));
    const auto got = rig.fakes[0]->delivered();
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].id, i + 1);
        ASSERT_EQ(got[i].records.size(), 100u);
        for (const auto& r : got[i].records)
            EXPECT_EQ(r.seq, ++seq);
    }
    rig.exporter->stop(std::chrono::milliseconds(100));
    EXPECT_EQ(rig.exporter->metrics().batches.load(), 10u);
    EXPECT_EQ(rig.exporter->metrics().records.load(), 1000u);
}

TEST(ExporterTest, CutsAPartialBatchAfterTheInterval)
{
    Rig rig(options(100000, std::chrono::milliseconds(50)));
    rig.exporter->start();
    const auto begin = std::chrono::steady_clock::now();
    rig.produce(0, 7);
    ASSERT_TRUE(eventually([&] { return rig.fakes[0]->delivered_count() == 1; }));
    EXPECT_GE(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(45));
    EXPECT_EQ(rig.fakes[0]->delivered()[0].records.size(), 7u);
    rig.exporter->stop(std::chrono::milliseconds(100));
}

TEST(ExporterTest, KeepsOrderPerSourceAcrossRingsAndFansOutToEverySink)
{
    Rig rig(options(64, std::chrono::milliseconds(5)), 4096, 3, 2);
    rig.exporter->start();
    for (int round = 0; round < 50; ++round)
        for (std::size_t s = 0; s < 3; ++s)
            rig.produce(s, 1 + (round * 7 + s * 3) % 40);
    std::size_t total = 0;
    for (const auto& [s, n] : rig.seqs)
        total += n;
    for (auto* f : rig.fakes)
        ASSERT_TRUE(eventually([&] { return f->delivered_records() == total; }));
    rig.exporter->stop(std::chrono::milliseconds(100));
    for (auto* f : rig.fakes) {
        std::map<std::uint16_t, std::uint64_t> last;
        std::uint64_t id = 0;
        for (const auto& b : f->delivered()) {
            EXPECT_EQ(b.id, ++id);
            EXPECT_LE(b.size(), 64u);
            for (const auto& r : b.records)
                EXPECT_EQ(r.seq, ++last[r.source]) << "source " << r.source;
        }
        for (const auto& [s, n] : rig.seqs)
            EXPECT_EQ(last[static_cast<std::uint16_t>(s)], n);
    }
    for (std::size_t s = 0; s < 3; ++s)
        EXPECT_EQ(rig.exporter->sources()[s]->gaps.load(), 0u);
}

TEST(ExporterTest, RingOverflowIsCountedExactlyAndAgreesWithTheHeartbeat)
{
    Rig rig(options(1000, std::chrono::milliseconds(5)), 16);
    auto& entry = rig.rings.entries()[0];
    querylog::QueryLog log(&entry.ring, entry.source, 1'000'000'000);
    entry.stats = &log.stats();
    // The exporter is not running yet: 16 fit, the rest and the first heartbeat are lost.
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(log.begin_query(1000 + i) != nullptr, i < 16);
    log.end_burst(2000);
    EXPECT_EQ(log.stats().lost.get(), 5u);
    rig.exporter->start();
    ASSERT_TRUE(eventually([&] { return rig.fakes[0]->delivered_records() == 16; }));
    log.heartbeat(5000); // carries produced 22, lost 5
    for (int i = 0; i < 3; ++i)
        ASSERT_NE(log.begin_query(6000 + i), nullptr);
    log.end_burst(7000);
    ASSERT_TRUE(eventually([&] { return rig.fakes[0]->delivered_records() == 20; }));
    rig.exporter->stop(std::chrono::milliseconds(100));

    const auto& src = *rig.exporter->sources()[0];
    EXPECT_EQ(src.received.load(), 20u);
    EXPECT_EQ(src.gaps.load(), 5u);
    EXPECT_EQ(src.gaps.load(), log.stats().lost.get());
    EXPECT_EQ(src.heartbeats.load(), 1u);
    EXPECT_EQ(src.heartbeat_lost.load(), 5u);
    EXPECT_EQ(src.heartbeat_produced.load(), 22u);
    EXPECT_EQ(src.gaps_at_heartbeat.load(), src.heartbeat_lost.load());
    EXPECT_EQ(src.last_seq.load(), log.stats().produced.get());

    const auto j = mirror_stats_json(*rig.exporter);
    EXPECT_EQ(j["sources"][0]["lost"], 5u);
    EXPECT_EQ(j["sources"][0]["gaps"], 5u);
    EXPECT_EQ(j["sources"][0]["produced"], 25u);
    EXPECT_EQ(j["exporter"]["heartbeats"], 1u);
    EXPECT_EQ(j["sinks"][0]["sent"]["records"], 20u);
    EXPECT_EQ(j["sinks"][0]["dropped"]["spool_full"]["records"], 0u);
    EXPECT_EQ(j["sinks"][0]["spool"]["enabled"], false);
}

TEST(ExporterTest, EventsJoinTheStreamAndTheirLossShowsAsAGap)
{
    Rig rig(options(1000, std::chrono::milliseconds(5)));
    for (int i = 0; i < 20; ++i) // the event log holds 16
        rig.events.post("admin", {{"command", "reload"}, {"n", std::to_string(i)}});
    EXPECT_EQ(rig.events.lost(), 4u);
    rig.exporter->start();
    ASSERT_TRUE(eventually([&] { return rig.fakes[0]->delivered_records() == 16; }));
    rig.events.post("config.reload", {{"result", "ok"}}); // seq 21: seqs 17..20 never came
    ASSERT_TRUE(eventually([&] { return rig.fakes[0]->delivered_records() == 17; }));
    rig.exporter->stop(std::chrono::milliseconds(100));
    const auto& control = *rig.exporter->sources().back();
    EXPECT_EQ(control.source, kControlSource);
    EXPECT_EQ(control.received.load(), 17u);
    EXPECT_EQ(control.gaps.load(), 4u);
    EXPECT_EQ(control.last_seq.load(), 21u);
    const auto got = rig.fakes[0]->delivered();
    EXPECT_EQ(got.front().events.front().seq, 1u);
    EXPECT_EQ(got.front().events.front().fields[1].second, "0");
    EXPECT_EQ(got.back().events.back().category, "config.reload");
    EXPECT_EQ(rig.exporter->metrics().events.load(), 17u);
}

TEST(ExporterTest, StopDrainsTheRingsIntoAFinalBatch)
{
    Rig rig(options(1u << 20, std::chrono::hours(1)));
    rig.exporter->start();
    rig.produce(0, 3000);
    rig.exporter->stop(std::chrono::seconds(5));
    EXPECT_EQ(rig.fakes[0]->delivered_records(), 3000u);
    EXPECT_EQ(rig.exporter->metrics().records.load(), 3000u);
    rig.exporter->stop(std::chrono::seconds(5)); // idempotent
}

} // namespace
} // namespace idpath::mirror
