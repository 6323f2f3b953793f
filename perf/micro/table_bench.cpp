// Google Benchmark of the sharded table alone (docs/PERFORMANCE.md section 3): Table::find() one
// key at a time against Table::find_burst() over bursts of 32, on the corpus of 1 k, 1 M and
// 10 M identifiers (perf/micro/corpus.hpp). items/s is lookups per second on one core. Counters:
// table_B_per_id (bucket arrays and arenas over identifiers), overhead_B_per_id (the same less
// the encoded values), build_s (TableBuilder, adds included).

#include <benchmark/benchmark.h>

#include <array>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/table.hpp"
#include "perf/micro/corpus.hpp"

namespace idpath::bench {
namespace {

/// kPoolSize normalised keys: identifiers of the table uniform at random, a `miss_percent` share
/// of them replaced by absent names under the same prefix.
std::vector<std::string> key_pool(const Corpus& c, unsigned miss_percent)
{
    std::mt19937_64 rng(11);
    std::vector<std::string> keys;
    keys.reserve(kPoolSize);
    for (std::size_t k = 0; k < kPoolSize; ++k) {
        const bool miss = rng() % 100 < miss_percent;
        const std::size_t i = static_cast<std::size_t>(rng() % c.size);
        keys.push_back(table::normalize(miss ? std::string(kPrefix) + "/missing-" + std::to_string(k) : handle_of(i)));
    }
    return keys;
}

void add_table_counters(benchmark::State& state, const Corpus& c)
{
    const auto& t = *c.table;
    const double n = static_cast<double>(c.size);
    state.counters["identifiers"] = n;
    state.counters["shards"] = static_cast<double>(t.shard_count());
    state.counters["table_B_per_id"] = static_cast<double>(t.memory_bytes()) / n;
    state.counters["overhead_B_per_id"] = static_cast<double>(t.memory_bytes() - t.value_bytes()) / n;
    state.counters["build_s"] = c.build_seconds;
}

/// find() per key; the found record's value count is read, as an answer would.
void BM_TableLookupSingle(benchmark::State& state, unsigned miss_percent)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const auto pool = key_pool(c, miss_percent);
    const std::vector<std::string_view> keys(pool.begin(), pool.end());
    std::size_t k = 0;
    std::uint64_t found = 0;
    std::uint64_t values = 0;
    for (auto _ : state) {
        if (const auto r = c.table->find(keys[k])) {
            ++found;
            values += r->values.size();
        }
        k = (k + 1) & (kPoolSize - 1);
    }
    benchmark::DoNotOptimize(values);
    if (miss_percent == 0 && found != static_cast<std::uint64_t>(state.iterations()))
        state.SkipWithError("a hit key was not found");
    state.SetItemsProcessed(state.iterations());
    add_table_counters(state, c);
}

/// find_burst() per 32 keys (one worker burst); items are lookups.
void BM_TableLookupBurst(benchmark::State& state, unsigned miss_percent)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const auto pool = key_pool(c, miss_percent);
    const std::vector<std::string_view> keys(pool.begin(), pool.end());
    constexpr std::size_t kBurst = table::Table::kBurst;
    static_assert(kPoolSize % kBurst == 0);
    std::array<std::optional<table::RecordView>, kBurst> out;
    std::size_t k = 0;
    std::uint64_t found = 0;
    std::uint64_t values = 0;
    for (auto _ : state) {
        c.table->find_burst(std::span(keys).subspan(k, kBurst), out);
        for (const auto& r : out)
            if (r) {
                ++found;
                values += r->values.size();
            }
        k = (k + kBurst) & (kPoolSize - 1);
    }
    benchmark::DoNotOptimize(values);
    const auto lookups = static_cast<std::int64_t>(state.iterations() * kBurst);
    if (miss_percent == 0 && found != static_cast<std::uint64_t>(lookups))
        state.SkipWithError("a hit key was not found");
    state.SetItemsProcessed(lookups);
    add_table_counters(state, c);
}

void table_sizes(benchmark::internal::Benchmark* b)
{
    b->Arg(1000)->Arg(1000000)->Arg(10000000);
}

BENCHMARK_CAPTURE(BM_TableLookupSingle, hit, 0u)->Apply(table_sizes);
BENCHMARK_CAPTURE(BM_TableLookupBurst, hit, 0u)->Apply(table_sizes);
BENCHMARK_CAPTURE(BM_TableLookupSingle, mixed_90_10, 10u)->Apply(table_sizes);
BENCHMARK_CAPTURE(BM_TableLookupBurst, mixed_90_10, 10u)->Apply(table_sizes);
BENCHMARK_CAPTURE(BM_TableLookupSingle, miss, 100u)->Apply(table_sizes);
BENCHMARK_CAPTURE(BM_TableLookupBurst, miss, 100u)->Apply(table_sizes);

} // namespace
} // namespace idpath::bench
