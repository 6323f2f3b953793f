// The pure-build Reclaimer (dataplane/base/qsbr.hpp): synchronize() waits for online readers,
// not for offline ones, and a writer freeing after synchronize() never frees what a reader is
// still reading (stress; run under -Db_sanitize=thread too).

#include "dataplane/base/qsbr.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

namespace idpath {
namespace {

using namespace std::chrono_literals;

TEST(Reclaimer, RegistersUpToCapacity)
{
    Reclaimer r(2);
    EXPECT_EQ(r.register_thread(), 0u);
    EXPECT_EQ(r.register_thread(), 1u);
    EXPECT_EQ(r.register_thread(), Reclaimer::kNoId);
    EXPECT_EQ(r.registered(), 2u);
}

TEST(Reclaimer, OfflineAndUnstartedReadersDoNotBlock)
{
    Reclaimer r(4);
    const unsigned a = r.register_thread();
    r.register_thread(); // registered, never online
    r.online(a);
    r.offline(a);
    r.synchronize(); // returns at once
    SUCCEED();
}

TEST(Reclaimer, WaitsForAnOnlineReaderToBeQuiescent)
{
    Reclaimer r(1);
    const unsigned id = r.register_thread();
    std::atomic<bool> online{false};
    std::atomic<bool> release{false};
    std::thread reader([&] {
        r.online(id);
        online.store(true);
        while (!release.load())
            std::this_thread::sleep_for(1ms);
        r.quiescent(id);
        r.offline(id);
    });
    while (!online.load())
        std::this_thread::sleep_for(1ms);
    std::atomic<bool> done{false};
    std::thread writer([&] {
        r.synchronize();
        done.store(true);
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(done.load()) << "synchronize() returned while a reader was inside a batch";
    release.store(true);
    writer.join();
    EXPECT_TRUE(done.load());
    reader.join();
}

TEST(Reclaimer, QuiescentBeforeTheCallDoesNotCount)
{
    Reclaimer r(1);
    const unsigned id = r.register_thread();
    r.online(id);
    r.quiescent(id); // before synchronize began
    std::atomic<bool> done{false};
    std::thread writer([&] {
        r.synchronize();
        done.store(true);
    });
    std::this_thread::sleep_for(30ms);
    EXPECT_FALSE(done.load());
    r.quiescent(id);
    writer.join();
    r.offline(id);
}

struct Box {
    std::uint64_t a;
    std::uint64_t b; // always a * 3 while the box is live
};

TEST(Reclaimer, StressReadersNeverSeeFreedMemory)
{
    constexpr unsigned kReaders = 4;
    constexpr int kSwaps = 2000;
    Reclaimer r(kReaders);
    std::atomic<Box*> current{new Box{0, 0}};
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> bad{0};
    std::atomic<std::uint64_t> reads{0};
    std::atomic<unsigned> started{0};

    std::vector<std::thread> readers;
    for (unsigned t = 0; t < kReaders; ++t) {
        const unsigned id = r.register_thread();
        readers.emplace_back([&, id, t] {
            std::uint64_t n = 0;
            bool counted = false;
            while (!stop.load(std::memory_order_relaxed)) {
                r.online(id);
                if (!std::exchange(counted, true))
                    started.fetch_add(1);
                for (int batch = 0; batch < 16; ++batch) {
                    const Box* box = current.load(std::memory_order_seq_cst);
                    for (int k = 0; k < 8; ++k)
                        if (box->b != box->a * 3)
                            bad.fetch_add(1);
                    ++n;
                    r.quiescent(id);
                }
                // Some readers go offline (as before a blocking call) now and then.
                if ((n + t) % 3 == 0) {
                    r.offline(id);
                    std::this_thread::yield();
                }
            }
            r.offline(id);
            reads.fetch_add(n);
        });
    }
    // Swaps only once every reader reads: on a loaded machine the writer could otherwise finish
    // before any reader was scheduled, and the test would check nothing.
    while (started.load() < kReaders)
        std::this_thread::yield();
    for (int i = 1; i <= kSwaps; ++i) {
        Box* fresh = new Box{static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(i) * 3};
        Box* old = current.exchange(fresh, std::memory_order_seq_cst);
        r.synchronize();
        old->b = 1; // poison: a reader still holding it would count it as bad
        delete old;
    }
    stop.store(true);
    for (auto& t : readers)
        t.join();
    delete current.load();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(reads.load(), 0u);
}

} // namespace
} // namespace idpath
