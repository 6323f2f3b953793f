// The control plane's event queue (controlplane/mirror/core/event_log.hpp): seq from 1, time
// stamped, bounded with every loss counted, safe from many threads.

#include <gtest/gtest.h>

#include <thread>

#include "controlplane/mirror/core/event_log.hpp"

namespace idpath::mirror {
namespace {

TEST(EventLogTest, StampsSeqAndTimeAndDrainsOldestFirst)
{
    EventLog log(8);
    const std::uint64_t before = realtime_ns();
    EXPECT_TRUE(log.post("table.load", {{"handles", "12"}}));
    EXPECT_TRUE(log.post("config.reload"));
    std::vector<Event> out;
    EXPECT_EQ(log.drain(out, 1), 1u);
    EXPECT_EQ(log.drain(out, 10), 1u);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].seq, 1u);
    EXPECT_EQ(out[0].category, "table.load");
    EXPECT_EQ(out[0].fields[0].second, "12");
    EXPECT_GE(out[0].time_ns, before);
    EXPECT_EQ(out[1].seq, 2u);
    EXPECT_GE(out[1].time_ns, out[0].time_ns);
    EXPECT_EQ(log.pending(), 0u);
}

TEST(EventLogTest, AFullQueueLosesCountsAndStillAdvancesTheSeq)
{
    EventLog log(3);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(log.post("admin"), i < 3);
    EXPECT_EQ(log.posted(), 5u);
    EXPECT_EQ(log.lost(), 2u);
    EXPECT_EQ(log.pending(), 3u);
    std::vector<Event> out;
    log.drain(out, 10);
    EXPECT_TRUE(log.post("admin"));
    log.drain(out, 10);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[2].seq, 3u);
    EXPECT_EQ(out[3].seq, 6u); // 4 and 5 were lost: the gap shows it
}

TEST(EventLogTest, ManyThreadsPostingLoseNothingUncounted)
{
    EventLog log(1000);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i)
                log.post("admin");
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(log.posted(), 2000u);
    EXPECT_EQ(log.lost(), 1000u);
    std::vector<Event> out;
    EXPECT_EQ(log.drain(out, 5000), 1000u);
    for (std::size_t i = 1; i < out.size(); ++i)
        EXPECT_LT(out[i - 1].seq, out[i].seq);
}

} // namespace
} // namespace idpath::mirror
