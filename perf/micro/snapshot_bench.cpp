// Google Benchmark of snapshot files (controlplane/snapshot, docs/PERFORMANCE.md section 6):
// saving a table of 1 M and 10 M identifiers (write, fsync, rename) and loading it back (map,
// check, copy into a new table, in parallel), with the file warm in the page cache and cold
// (its pages dropped first, so the disk is read). DESIGN.md section 7's goal: 10 M identifiers
// loaded in 5 s or less, 64 octets or less of overhead per identifier.
//
// Records as perf/micro/corpus.hpp describes them (four values, ~340 octets encoded), built
// here so this program stands alone. Counters: s (seconds per save or load), GB_per_s (file
// octets per second), file_B_per_id, table_B_per_id (buckets and arenas of the loaded table
// per identifier), overhead_B_per_id (the same less the encoded values), build_s.
// The file lives in $IDPATH_SNAPSHOT_DIR (default /var/tmp) and is deleted at exit.

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/snapshot/snapshot_file.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::bench {
namespace {

namespace fs = std::filesystem;

wire::HandleValue value(std::uint32_t index, std::string type, std::string data)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1'750'000'000;
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    return v;
}

std::vector<wire::HandleValue> values_of(std::size_t i, const std::string& handle)
{
    const std::string n = std::to_string(i);
    std::string admin(2, '\x0f');
    admin += "\0\0\0\x0c"
             "0.NA/88.100.1"
             "\0\0\x01\x2c";
    return {
        value(1, "URL", "https://industry.example.cn/products/line-7/items/" + n),
        value(2, "EMAIL", "ops-" + n.substr(0, 4) + "@factory.example.cn"),
        value(100, "HS_ADMIN", admin),
        value(101, "88.100.1/PRODUCT_INFO",
              R"({"sn":")" + handle.substr(9) + R"(","model":"CNC-A300","batch":")" + n.substr(0, 3) +
                  R"(","made":"2025-06-01","plant":"Wuxi"})"),
    };
}

/// A table of `n` identifiers, built on first use and kept.
struct Source {
    std::shared_ptr<table::Table> table;
    double build_seconds = 0;
};

const Source& source(std::size_t n)
{
    static std::map<std::size_t, Source> built;
    auto& s = built[n];
    if (!s.table) {
        const auto t0 = std::chrono::steady_clock::now();
        table::TableBuilder b;
        b.home("88.100.1");
        for (std::size_t i = 0; i < n; ++i) {
            char h[32];
            std::snprintf(h, sizeof h, "88.100.1/bench-%08zu", i % 100000000);
            b.add(h, values_of(i, h));
        }
        s.table = std::move(b).build();
        s.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return s;
}

fs::path snapshot_path(std::size_t n)
{
    const char* dir = std::getenv("IDPATH_SNAPSHOT_DIR");
    return fs::path(dir ? dir : "/var/tmp") / ("idpath-snapshot-bench-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(n) + ".snap");
}

/// Removes the benchmark's files at exit, whatever ran.
struct Cleanup {
    std::vector<fs::path> paths;
    ~Cleanup()
    {
        std::error_code ec;
        for (const auto& p : paths)
            fs::remove(p, ec);
    }
};
Cleanup cleanup;

void common_counters(benchmark::State& state, const Source& src, std::uint64_t file_bytes)
{
    const double n = static_cast<double>(src.table->size());
    state.counters["identifiers"] = n;
    state.counters["shards"] = static_cast<double>(src.table->shard_count());
    state.counters["file_B_per_id"] = static_cast<double>(file_bytes) / n;
    state.counters["build_s"] = src.build_seconds;
}

void BM_SnapshotSave(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const Source& src = source(n);
    const fs::path path = snapshot_path(n);
    cleanup.paths.push_back(path);
    double seconds = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        auto r = snapshot::save_snapshot(*src.table, path, {1'750'000'000, "snapshot_bench"});
        if (!r) {
            state.SkipWithError(r.error().c_str());
            return;
        }
        state.SetIterationTime(r->seconds);
        seconds += r->seconds;
        bytes = r->bytes;
    }
    const double per = seconds / static_cast<double>(state.iterations());
    state.counters["s"] = per;
    state.counters["GB_per_s"] = static_cast<double>(bytes) / per / 1e9;
    common_counters(state, src, bytes);
}

/// Drops the file's pages from the page cache (they are clean: save fsynced them).
void drop_cache(const fs::path& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    }
}

void load(benchmark::State& state, bool cold)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const Source& src = source(n);
    const fs::path path = snapshot_path(n);
    cleanup.paths.push_back(path);
    if (!fs::exists(path)) {
        if (auto r = snapshot::save_snapshot(*src.table, path, {1'750'000'000, "snapshot_bench"}); !r) {
            state.SkipWithError(r.error().c_str());
            return;
        }
    }
    double seconds = 0;
    std::uint64_t bytes = 0;
    std::shared_ptr<table::Table> loaded;
    for (auto _ : state) {
        state.PauseTiming();
        loaded.reset(); // the previous load's memory is not counted
        if (cold)
            drop_cache(path);
        state.ResumeTiming();
        auto r = snapshot::load_snapshot_file(path);
        if (!r) {
            state.SkipWithError(r.error().c_str());
            return;
        }
        state.SetIterationTime(r->seconds);
        seconds += r->seconds;
        bytes = r->bytes;
        loaded = std::move(r->table);
    }
    const double per = seconds / static_cast<double>(state.iterations());
    const double ids = static_cast<double>(loaded->size());
    state.counters["s"] = per;
    state.counters["GB_per_s"] = static_cast<double>(bytes) / per / 1e9;
    state.counters["table_B_per_id"] = static_cast<double>(loaded->memory_bytes()) / ids;
    state.counters["overhead_B_per_id"] = static_cast<double>(loaded->memory_bytes() - loaded->value_bytes()) / ids;
    common_counters(state, src, bytes);
}

void BM_SnapshotLoadWarm(benchmark::State& state) { load(state, false); }
void BM_SnapshotLoadCold(benchmark::State& state) { load(state, true); }

BENCHMARK(BM_SnapshotSave)->Arg(1'000'000)->Arg(10'000'000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotLoadWarm)->Arg(1'000'000)->Arg(10'000'000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotLoadCold)->Arg(1'000'000)->Arg(10'000'000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

} // namespace
} // namespace idpath::bench

BENCHMARK_MAIN();
