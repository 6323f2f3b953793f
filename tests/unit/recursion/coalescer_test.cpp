// The coalescer: N threads asking the same question at once cause one resolution; different
// questions do not wait for each other.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "controlplane/recursion/coalescer.hpp"

namespace idpath::recursion {
namespace {

using namespace std::chrono_literals;

/// Spins until `pred` holds or two seconds pass.
template <class P>
bool eventually(P pred)
{
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

TEST(Coalescer, ManyCallersOneResolution)
{
    constexpr int kThreads = 8;
    Coalescer c;
    std::atomic<int> resolutions{0};
    std::atomic<int> shared_count{0};
    std::atomic<bool> release{false};
    const auto resolve = [&] {
        resolutions.fetch_add(1);
        // Hold the flight open until every other caller is waiting on it.
        EXPECT_TRUE(eventually([&] { return release.load(); }));
        Outcome o;
        o.response_code = 1;
        o.value_count = 3;
        return o;
    };
    std::vector<std::thread> threads;
    std::vector<Outcome> results(kThreads);
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            bool shared = false;
            results[static_cast<std::size_t>(i)] = c.run("88.100.1/abc", resolve, shared);
            if (shared)
                shared_count.fetch_add(1);
        });
    EXPECT_TRUE(eventually([&] { return c.waiters() == kThreads - 1; })) << c.waiters();
    release = true;
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(resolutions.load(), 1);
    EXPECT_EQ(shared_count.load(), kThreads - 1);
    for (const Outcome& o : results) {
        EXPECT_EQ(o.response_code, 1u);
        EXPECT_EQ(o.value_count, 3u);
    }
    EXPECT_EQ(c.in_flight(), 0u);
}

TEST(Coalescer, DifferentKeysRunApart)
{
    Coalescer c;
    std::atomic<int> resolutions{0};
    std::atomic<bool> release{false};
    std::thread first([&] {
        bool shared = false;
        c.run(
            "a",
            [&] {
                resolutions.fetch_add(1);
                EXPECT_TRUE(eventually([&] { return release.load(); }));
                return Outcome{};
            },
            shared);
    });
    ASSERT_TRUE(eventually([&] { return c.in_flight() == 1; }));
    bool shared = true;
    c.run(
        "b",
        [&] {
            resolutions.fetch_add(1);
            return Outcome{};
        },
        shared);
    EXPECT_FALSE(shared);
    release = true;
    first.join();
    EXPECT_EQ(resolutions.load(), 2);
}

TEST(Coalescer, SequentialCallsResolveAgain)
{
    Coalescer c;
    int resolutions = 0;
    bool shared = false;
    for (int i = 0; i < 3; ++i)
        c.run(
            "a",
            [&] {
                ++resolutions;
                return Outcome{};
            },
            shared);
    EXPECT_EQ(resolutions, 3);
}

TEST(Coalescer, AThrowingResolutionReleasesWaiters)
{
    Coalescer c;
    std::atomic<bool> release{false};
    Outcome waited;
    std::thread owner([&] {
        bool shared = false;
        EXPECT_THROW(c.run(
                         "a",
                         [&]() -> Outcome {
                             EXPECT_TRUE(eventually([&] { return release.load(); }));
                             throw std::runtime_error("boom");
                         },
                         shared),
                     std::runtime_error);
    });
    ASSERT_TRUE(eventually([&] { return c.in_flight() == 1; }));
    std::thread waiter([&] {
        bool shared = false;
        waited = c.run(
            "a", [] { return Outcome{}; }, shared);
        EXPECT_TRUE(shared);
    });
    ASSERT_TRUE(eventually([&] { return c.waiters() == 1; }));
    release = true;
    owner.join();
    waiter.join();
    EXPECT_TRUE(waited.failed());
}

} // namespace
} // namespace idpath::recursion
