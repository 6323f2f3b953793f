// Google Benchmark of the Kafka sink (controlplane/mirror/kafka): items/s is records through one
// sink thread into librdkafka's in-process mock cluster, each iteration 64 batches of 4096
// records (4 serving threads' records interleaved, as the exporter cuts them) then flush(): the
// time runs until the brokers acknowledged every message. Binary (one message per batch and
// source) and JSON (one object per message, the default, and 100 lines per message).
// Counters: sink_cpu_ns = the sink thread's own CPU per record (encoding, producev, reports);
// process_cpu_ns = all threads' CPU per record, librdkafka's broker threads (compression) and the mock
// brokers included, which share the machine with it here and would not with a real cluster.
// Codecs: zstd (the sink's default), lz4 and none, for binary.

#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "controlplane/mirror/kafka/kafka_sink.hpp"
#include "tests/unit/mirror/sample_records.hpp"

namespace idpath::bench {
namespace {

using mirror::Batch;
using mirror::KafkaFormat;

constexpr std::size_t kSources = 4;
constexpr std::size_t kBatchRecords = 4096;
constexpr std::size_t kBatchesPerIteration = 64;

std::uint64_t cpu_ns(clockid_t clock)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

Batch make_batch()
{
    Batch b;
    b.id = 1;
    for (std::size_t i = 0; i < kBatchRecords; ++i) {
        char handle[querylog::kHandleBytes];
        const int length = std::snprintf(handle, sizeof handle, "20.500.12345/item-%zu", i * 7919 % 100000);
        querylog::Record r = mirror::testing::query_record(
            static_cast<std::uint16_t>(i % kSources), i / kSources + 1, 1'790'000'000'000'000'000ull + i * 1000,
            {handle, static_cast<std::size_t>(length)});
        r.latency_ns = 2000 + static_cast<std::uint32_t>(i % 700);
        r.request_bytes = 60;
        r.response_bytes = 240;
        r.values = 3;
        r.client_port = static_cast<std::uint16_t>(1024 + i);
        mirror::testing::set_ipv4(r.client, 198, 51, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
        mirror::testing::set_ipv4(r.server, 192, 0, 2, 1);
        b.records.push_back(r);
    }
    return b;
}

/// librdkafka's mock cluster: three brokers, the topic with 12 partitions.
class Cluster {
public:
    Cluster()
    {
        char reason[256];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", reason, sizeof reason);
        handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof reason);
        cluster_ = rd_kafka_mock_cluster_new(handle_, 3);
        rd_kafka_mock_topic_create(cluster_, "idpath-log", 12, 1);
    }
    ~Cluster()
    {
        rd_kafka_mock_cluster_destroy(cluster_);
        rd_kafka_destroy(handle_);
    }
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;
    std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

private:
    rd_kafka_t* handle_;
    rd_kafka_mock_cluster_t* cluster_;
};

void BM_KafkaSink(benchmark::State& state, KafkaFormat format, std::size_t message_records,
                  const char* codec)
{
    Cluster cluster;
    mirror::KafkaSinkOptions o;
    o.brokers = cluster.bootstraps();
    o.format = format;
    o.message_records = message_records;
    o.properties = {std::string("compression.codec=") + codec};
    auto made = mirror::make_kafka_sink(o, mirror::Origin{"node-bench-01", "0.1.0"});
    if (!made) {
        state.SkipWithError(made.error().c_str());
        return;
    }
    mirror::Sink& sink = **made;
    std::uint64_t failed = 0;
    sink.undelivered = [&failed](Batch&& b) { failed += b.size(); };
    const Batch batch = make_batch();

    std::uint64_t refused = 0, sink_cpu = 0, process_cpu = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        const std::uint64_t thread0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        const std::uint64_t process0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
        for (std::size_t i = 0; i < kBatchesPerIteration; ++i) {
            // As the runner would, less the spool: refused (librdkafka's queue full) means wait
            // for delivery reports and try again.
            while (!sink.deliver(batch).ok()) {
                ++refused;
                sink.flush(std::chrono::milliseconds(1));
            }
            sink.tick();
        }
        if (!sink.flush(std::chrono::seconds(60)))
            state.SkipWithError("flush did not finish");
        sink_cpu += cpu_ns(CLOCK_THREAD_CPUTIME_ID) - thread0;
        process_cpu += cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - process0;
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        state.SetIterationTime(took.count());
    }
    const double records = static_cast<double>(state.iterations() * kBatchesPerIteration * kBatchRecords);
    state.SetItemsProcessed(static_cast<std::int64_t>(records));
    state.counters["sink_cpu_ns"] = static_cast<double>(sink_cpu) / records;
    state.counters["process_cpu_ns"] = static_cast<double>(process_cpu) / records;
    state.counters["refused"] = static_cast<double>(refused);
    state.counters["failed"] = static_cast<double>(failed);
    const auto* counters = mirror::kafka_counters(sink);
    state.counters["msg_per_batch"] =
        static_cast<double>(counters->messages_acked.get()) /
        static_cast<double>(state.iterations() * kBatchesPerIteration);
}

BENCHMARK_CAPTURE(BM_KafkaSink, binary, KafkaFormat::Binary, 0, "zstd")
    ->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_KafkaSink, binary_lz4, KafkaFormat::Binary, 0, "lz4")
    ->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_KafkaSink, binary_none, KafkaFormat::Binary, 0, "none")
    ->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_KafkaSink, json_1_per_message, KafkaFormat::Json, 0, "zstd")
    ->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_KafkaSink, json_100_per_message, KafkaFormat::Json, 100, "zstd")
    ->UseManualTime()->Unit(benchmark::kMillisecond);

} // namespace
} // namespace idpath::bench

BENCHMARK_MAIN();
