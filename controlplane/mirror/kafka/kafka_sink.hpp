#pragma once
/// The Kafka sink (issue 6, 3c): batches go to a topic through librdkafka's idempotent producer.
/// deliver() never waits on the network: it queues messages in librdkafka and returns; the
/// delivery reports, served by tick() and flush(), say what the brokers acknowledged, and a
/// message that failed hands its records back through Sink::undelivered so the runner spools
/// them. Delivery is at least once: a message that timed out in flight may have reached the
/// broker, and then arrives twice (same node, source and seq; consumers drop the repeat).
///
/// Messages: a message never mixes sources, and its key is "<node id>/<source>", so the default
/// partitioner puts each serving thread's records in one partition, in order (the idempotent
/// producer keeps that order across retries), and a consumer can check the seq of each source
/// for gaps. Binary: by default one message per batch and source (the binary batch form of
/// encode.hpp, self-describing). JSON: by default one JSON object per message (ending in '\n'),
/// the form Kafka Connect's JsonConverter, ksqlDB, Flink and Logstash's json codec expect;
/// consumers that split on newlines (ClickHouse's Kafka engine with JSONEachRow, Vector) can
/// take message_records lines per message, which costs librdkafka far less per record. Either
/// way no message exceeds librdkafka's message.max.bytes: a longer run is cut.
///
/// ready() is false from librdkafka's "all brokers are down" error until a broker is up again,
/// which librdkafka's statistics (every statistics.interval.ms, 1 s by default here) or the next
/// successful delivery report tell; meanwhile the runner spools instead of filling librdkafka's
/// queue. If an operator turns statistics off, ready() lets one batch through per second while
/// down, and its delivery report decides. A fatal producer error (the idempotent producer's
/// guarantees broken) purges and hands back everything queued and starts a new producer.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/mirror/core/batch.hpp"
#include "controlplane/mirror/core/sink.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

enum class KafkaFormat : std::uint8_t { Binary, Json };

struct KafkaSinkOptions {
    /// bootstrap.servers: "host:port[,host:port...]".
    std::string brokers;
    std::string topic = "idpath-log";
    KafkaFormat format = KafkaFormat::Binary;
    /// "key=value" librdkafka properties, set verbatim after the sink's own (kafka_conf.hpp), so
    /// an operator can add security.protocol, sasl.*, ssl.* or override a default.
    std::vector<std::string> properties;
    /// Records (and events) per Kafka message, at most; 0: the format's default (binary: all of
    /// a batch's records of one source; JSON: 1).
    std::size_t message_records = 0;
};

/// Read by any thread (metrics); written by the sink's thread.
struct KafkaSinkCounters {
    Counter records_acked;    // records and events the brokers acknowledged
    Counter messages_acked;
    Counter records_failed;   // in failed messages, handed back through undelivered
    Counter records_lost;     // failed with no way back (no undelivered set, or oversize)
    Counter refused;          // deliver() calls refused (queue full, producer failed)
    Counter brokers_down;     // times every broker went down
    Counter producer_restarts; // after a fatal error
};

/// Error: "kafka: no brokers", "kafka property 'acks': Invalid value ...", "kafka producer: ...".
Result<std::unique_ptr<Sink>, std::string> make_kafka_sink(const KafkaSinkOptions& options,
                                                           const Origin& origin);

/// The counters of a sink made by make_kafka_sink, or null for any other sink.
const KafkaSinkCounters* kafka_counters(const Sink& sink) noexcept;

} // namespace idpath::mirror
