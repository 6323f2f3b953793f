// The machine's floor for table lookups: random reads of 64-octet lines from a buffer of the
// given size, one dependent chain (each read needs the previous one's answer, as a hash-table
// probe that follows pointers does) or eight independent chains (as a lookup batch with
// prefetch can overlap them). items/s is reads per second; docs/PERFORMANCE.md reads these
// figures next to the resolve ones.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

namespace idpath::bench {
namespace {

constexpr std::size_t kLine = 64;

struct alignas(kLine) Line {
    std::uint64_t next;
    std::array<std::uint64_t, kLine / 8 - 1> pad;
};

/// A single random cycle through every line, so a chase touches the whole buffer.
std::unique_ptr<Line[]> random_cycle(std::size_t lines)
{
    std::vector<std::uint64_t> order(lines);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin() + 1, order.end(), std::mt19937_64(1));
    auto buf = std::make_unique<Line[]>(lines);
    for (std::size_t i = 0; i < lines; ++i)
        buf[order[i]].next = order[(i + 1) % lines];
    return buf;
}

template <std::size_t kChains>
void BM_RandomRead(benchmark::State& state)
{
    const std::size_t lines = static_cast<std::size_t>(state.range(0)) * (1u << 20) / kLine;
    const auto buf = random_cycle(lines);
    std::array<std::uint64_t, kChains> at;
    for (std::size_t k = 0; k < kChains; ++k)
        at[k] = k * (lines / kChains);
    for (auto _ : state)
        for (std::size_t k = 0; k < kChains; ++k)
            at[k] = buf[at[k]].next;
    benchmark::DoNotOptimize(at);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kChains));
    state.counters["MiB"] = static_cast<double>(state.range(0));
}

BENCHMARK_TEMPLATE(BM_RandomRead, 1)->Name("BM_RandomRead/dependent")->Arg(16)->Arg(1024);
BENCHMARK_TEMPLATE(BM_RandomRead, 8)->Name("BM_RandomRead/8_chains")->Arg(16)->Arg(1024);

} // namespace
} // namespace idpath::bench
