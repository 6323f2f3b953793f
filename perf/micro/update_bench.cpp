// Updates while readers run (DESIGN.md section 7: 100 k updates/s while serving, no reader
// stall). A reader thread looks up random keys in bursts of 32 with find_burst() and reports a
// quiescent state after each burst, as a worker does; the benchmark thread replaces records
// (Table::upsert, ~300-octet records) in batches, waits for the grace period, frees what was
// retired. Counters: updates/s, the first changes' cost (every shard rebuilt once), the
// reader's lookups/s during the run and its slowest burst (a stall would show there).
// BM_ReaderAlone gives the reader's rate with no writer, measured in the same process.
//
//   idpath-micro --benchmark_filter='BM_Update|BM_ReaderAlone'

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/base/qsbr.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string key_of(std::size_t i) { return "88.100.1/UPD-" + std::to_string(i); }

table::EncodedRecord record_of(std::size_t i, std::uint32_t version)
{
    std::vector<wire::HandleValue> values(3);
    for (std::uint32_t v = 0; v < 3; ++v) {
        values[v].index = v + 1;
        values[v].timestamp = version;
        values[v].type = v == 0 ? "URL" : v == 1 ? "EMAIL" : "product.batch";
        const std::string data = "https://id.example.cn/p/" + std::to_string(i) + "/" + std::to_string(version) +
                                 std::string(40 + 10 * v, 'x');
        values[v].data.assign(data.begin(), data.end());
    }
    return *table::encode_record(key_of(i), std::move(values));
}

std::shared_ptr<table::Table> table_of(std::size_t n)
{
    static std::map<std::size_t, std::shared_ptr<table::Table>> built;
    auto& t = built[n];
    if (!t) {
        table::TableBuilder b;
        for (std::size_t i = 0; i < n; ++i)
            b.add(record_of(i, 0));
        t = std::move(b).build();
    }
    return t;
}

/// Looks up random keys until stopped; the figures it leaves behind.
struct Reader {
    std::atomic<bool> stop{false};
    std::uint64_t lookups = 0;
    std::uint64_t slowest_ns = 0;
    double seconds = 0;

    void run(const table::Table& t, std::size_t n, Reclaimer* reclaimer, unsigned id)
    {
        std::vector<std::string> keys;
        std::mt19937_64 rng(11);
        for (std::size_t i = 0; i < 1 << 16; ++i)
            keys.push_back(key_of(rng() % n));
        std::vector<std::string_view> views(keys.begin(), keys.end());
        std::vector<std::optional<table::RecordView>> out(table::Table::kBurst);
        if (reclaimer)
            reclaimer->online(id);
        const auto begin = Clock::now();
        std::size_t at = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            const auto t0 = Clock::now();
            t.find_burst(std::span(views).subspan(at, table::Table::kBurst), out);
            const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
            slowest_ns = std::max(slowest_ns, ns);
            for (const auto& o : out)
                benchmark::DoNotOptimize(o->encoded.data());
            lookups += table::Table::kBurst;
            at = (at + table::Table::kBurst) % views.size();
            if (reclaimer)
                reclaimer->quiescent(id);
        }
        seconds = std::chrono::duration<double>(Clock::now() - begin).count();
        if (reclaimer)
            reclaimer->offline(id);
    }
};

void BM_UpdateUnderReaders(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto batch = static_cast<std::size_t>(state.range(1));
    auto t = table_of(n);
    Reclaimer reclaimer(1);
    const unsigned id = reclaimer.register_thread();
    Reader reader;
    std::thread thread([&] { reader.run(*t, n, &reclaimer, id); });

    std::mt19937_64 rng(5);
    std::uint32_t version = 1;
    // Records are encoded ahead: the figure is the table's update rate, not JSON's or encoding's.
    std::vector<table::EncodedRecord> ready;
    const auto refill = [&] {
        ++version;
        ready.clear();
        for (std::size_t i = 0; i < batch; ++i)
            ready.push_back(record_of(rng() % n, version));
    };
    const auto apply = [&] {
        table::Retired retired;
        for (const auto& r : ready)
            t->upsert(r, retired);
        reclaimer.synchronize();
        retired.clear();
    };
    // The first changes to a freshly built table rebuild every shard they touch (a build leaves
    // no room in the arenas): timed on their own, then the steady state.
    refill();
    const auto cold0 = Clock::now();
    for (std::size_t s = 0; s < t->shard_count() * 4; s += batch)
        apply();
    const double cold = std::chrono::duration<double>(Clock::now() - cold0).count();

    std::uint64_t updates = 0;
    double busy = 0;
    const std::uint64_t rebuilds_before = t->shard_rebuilds();
    for (auto _ : state) {
        refill();
        const auto t0 = Clock::now();
        apply();
        busy += std::chrono::duration<double>(Clock::now() - t0).count();
        updates += ready.size();
    }
    reader.stop = true;
    thread.join();
    state.counters["updates_per_s"] = static_cast<double>(updates) / busy;
    state.counters["first_touch_s"] = cold;
    state.counters["reader_lookups_per_s"] = static_cast<double>(reader.lookups) / reader.seconds;
    state.counters["reader_slowest_burst_us"] = static_cast<double>(reader.slowest_ns) / 1e3;
    state.counters["shard_rebuilds"] = static_cast<double>(t->shard_rebuilds() - rebuilds_before);
    state.counters["bytes_per_id"] = static_cast<double>(t->memory_bytes()) / static_cast<double>(t->size());
}

void BM_ReaderAlone(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    auto t = table_of(n);
    Reader reader;
    std::thread thread([&] { reader.run(*t, n, nullptr, 0); });
    for (auto _ : state)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    reader.stop = true;
    thread.join();
    state.counters["reader_lookups_per_s"] = static_cast<double>(reader.lookups) / reader.seconds;
    state.counters["reader_slowest_burst_us"] = static_cast<double>(reader.slowest_ns) / 1e3;
}

BENCHMARK(BM_ReaderAlone)->Arg(1'000'000)->Iterations(100)->UseRealTime()->Unit(benchmark::kMillisecond);
// Iterations are batches; updates_per_s counts only the time spent applying them (not making
// the records), grace periods included.
BENCHMARK(BM_UpdateUnderReaders)
    ->Args({1'000'000, 1000})
    ->Args({1'000'000, 100})
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond);

} // namespace
} // namespace idpath::bench
