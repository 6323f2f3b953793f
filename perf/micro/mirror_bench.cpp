// Google Benchmark of the log schema's encoders and the file sink (controlplane/mirror/core,
// controlplane/mirror/file); docs/PERFORMANCE.md. items/s is records per second on one thread:
// each iteration encodes, or delivers to a file sink, one batch of 4096 records (four serving
// threads' records interleaved, as the exporter cuts them; 10 000 distinct handles, a fifth of
// the clients IPv6). The file sink writes to a fresh directory under $IDPATH_BENCH_DIR
// (default /dev/shm, so the figure is the sink's CPU, not the disk's) rotated every 256 MiB.

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/file/file_sink.hpp"
#include "tests/unit/mirror/sample_records.hpp"

namespace idpath::bench {
namespace {

using mirror::Batch;
using mirror::LogFormat;

constexpr std::size_t kSources = 4;
constexpr std::size_t kBatchRecords = 4096;
const mirror::Origin kOrigin{"bench-node-1", "0.6.0"};

const Batch& sample_batch()
{
    static const Batch batch = [] {
        Batch b;
        b.id = 1;
        std::mt19937_64 rng(42);
        for (std::size_t i = 0; i < kBatchRecords; ++i) {
            // The handle (from the same generator) comes last.
            querylog::Record r = mirror::testing::query_record(static_cast<std::uint16_t>(i % kSources),
                                                               i / kSources + 1,
                                                               1'795'401'636'000'000'000ull + i * 977, {});
            r.latency_ns = 1500 + static_cast<std::uint32_t>(rng() % 3000);
            r.transport = rng() % 10 == 0 ? querylog::Transport::Tcp : querylog::Transport::Udp;
            const bool found = rng() % 10 != 0;
            r.response_code = found ? 1 : 100;
            r.values = found ? static_cast<std::uint16_t>(1 + rng() % 6) : 0;
            r.request_bytes = 60 + static_cast<std::uint32_t>(rng() % 40);
            r.response_bytes = found ? 200 + static_cast<std::uint32_t>(rng() % 800) : 60;
            r.client_port = static_cast<std::uint16_t>(1024 + rng() % 60000);
            if (rng() % 5 == 0) {
                r.family = 6;
                std::memset(r.client, 0, sizeof r.client);
                std::memset(r.server, 0, sizeof r.server);
                r.client[0] = 0x20;
                r.client[1] = 0x01;
                r.client[2] = 0x0d;
                r.client[3] = 0xb8;
                for (int k = 8; k < 16; ++k)
                    r.client[k] = static_cast<std::uint8_t>(rng());
                std::memcpy(r.server, r.client, 8);
                r.server[15] = 1;
            } else {
                mirror::testing::set_ipv4(r.client, 10, 0, 0, 0);
                for (int k = 13; k < 16; ++k)
                    r.client[k] = static_cast<std::uint8_t>(rng());
                mirror::testing::set_ipv4(r.server, 192, 0, 2, 1);
            }
            const std::string h = "20.500.12345/item-" + std::to_string(rng() % 10000) + "-" +
                                  std::to_string(100000 + rng() % 900000);
            querylog::set_handle(r, reinterpret_cast<const std::uint8_t*>(h.data()), h.size());
            b.records.push_back(r);
        }
        return b;
    }();
    return batch;
}

void BM_EncodeJson(benchmark::State& state)
{
    const Batch& b = sample_batch();
    std::string out;
    for (auto _ : state) {
        out.clear();
        mirror::encode_json_lines(b, kOrigin, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * b.records.size()));
    state.counters["bytes_per_record"] = static_cast<double>(out.size()) / static_cast<double>(b.records.size());
}
BENCHMARK(BM_EncodeJson);

void BM_EncodeBinary(benchmark::State& state)
{
    const Batch& b = sample_batch();
    std::string out;
    for (auto _ : state) {
        out.clear();
        mirror::encode_binary(b, kOrigin, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * b.records.size()));
    state.counters["bytes_per_record"] = static_cast<double>(out.size()) / static_cast<double>(b.records.size());
}
BENCHMARK(BM_EncodeBinary);

void BM_DecodeBinary(benchmark::State& state)
{
    std::string in;
    mirror::encode_binary(sample_batch(), kOrigin, in);
    for (auto _ : state) {
        std::size_t used = 0;
        auto d = mirror::decode_binary(as_bytes(in), used);
        benchmark::DoNotOptimize(d.ok());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatchRecords));
}
BENCHMARK(BM_DecodeBinary);

/// Arguments: format (0 binary, 1 JSON), zstd level (0: plain files).
void BM_FileSink(benchmark::State& state)
{
    const char* root = std::getenv("IDPATH_BENCH_DIR");
    const std::filesystem::path dir = std::filesystem::path(root ? root : "/dev/shm") /
                                      ("idpath-mirror-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    mirror::FileSinkOptions o;
    o.directory = dir;
    o.format = state.range(0) == 0 ? LogFormat::Binary : LogFormat::Json;
    o.zstd_level = static_cast<int>(state.range(1));
    o.rotate_bytes = std::uint64_t{256} << 20;
    o.rotate_seconds = 0;
    {
        auto sink = mirror::make_file_sink(o, kOrigin);
        if (!sink.ok()) {
            state.SkipWithError(sink.error().c_str());
            return;
        }
        const Batch& b = sample_batch();
        for (auto _ : state)
            if (!(*sink)->deliver(b).ok())
                state.SkipWithError("deliver failed");
        state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * b.records.size()));
        std::uint64_t bytes = 0;
        for (const auto& e : std::filesystem::directory_iterator(dir))
            bytes += e.file_size();
        state.counters["file_bytes_per_record"] =
            static_cast<double>(bytes) / static_cast<double>(state.iterations() * b.records.size());
    }
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_FileSink)
    ->ArgNames({"json", "zstd"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({0, 3})
    ->Args({1, 1})
    ->Args({1, 3});

} // namespace
} // namespace idpath::bench

BENCHMARK_MAIN();
