#pragma once
/// Shared by the Kafka sink's tests: batches with known per-source sequences, librdkafka's mock
/// cluster, and a real consumer that reads a topic back and decodes what it finds.

#include <time.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "controlplane/mirror/core/batch.hpp"
#include "controlplane/mirror/kafka/kafka_sink.hpp"

namespace idpath::mirror::test {

/// The node every test's records come from (consume() checks keys and origins against it).
inline const Origin kOrigin{"node-7", "0.1.0"};

/// A query record of `source` with sequence `seq`; the handle names both, so content is checked.
querylog::Record query_record(std::uint16_t source, std::uint64_t seq);

/// Batch `id`: `per_source` records of each of `sources`, interleaved as the exporter drains
/// rings, numbered on from `next_seq[source]` (advanced); plus `events` events numbered on from
/// next_seq[kControlSource].
Batch make_batch(std::uint64_t id, std::uint16_t sources, std::size_t per_source, std::size_t events,
                 std::map<std::uint16_t, std::uint64_t>& next_seq);

/// librdkafka's in-process Kafka cluster, with the topic created.
class MockCluster {
public:
    MockCluster(int brokers, const std::string& topic, int partitions);
    ~MockCluster();
    MockCluster(const MockCluster&) = delete;
    MockCluster& operator=(const MockCluster&) = delete;

    std::string bootstraps() const;
    void set_all_down(bool down);
    rd_kafka_mock_cluster_t* get() const noexcept { return cluster_; }

private:
    int brokers_;
    rd_kafka_t* handle_ = nullptr;
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

/// What a consumer read: each item's (source, seq) per source in arrival order, plus checks
/// made on the way (message key names the source of all it carries; replayed flags).
struct Received {
    std::map<std::uint16_t, std::vector<std::uint64_t>> seqs;
    std::size_t items = 0;
    std::size_t messages = 0;
    std::size_t replayed = 0;
    std::vector<std::string> problems;
};

/// Reads every partition of `topic` from the beginning until `expected` items arrived or
/// `limit` passed, then reads on briefly (so a duplicate would be seen).
Received consume(const std::string& bootstraps, const std::string& topic, int partitions,
                 KafkaFormat format, std::size_t expected, std::chrono::milliseconds limit);

/// Ticks `sink` until `done()` or `limit`; whether done() held.
template <class Done>
bool tick_until(Sink& sink, Done done, std::chrono::milliseconds limit)
{
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        sink.tick();
        struct timespec ts{0, 10'000'000};
        nanosleep(&ts, nullptr);
    }
    return true;
}

} // namespace idpath::mirror::test
