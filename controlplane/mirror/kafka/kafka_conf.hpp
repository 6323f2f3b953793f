#pragma once
/// The producer configuration: the sink's own settings, then the operator's properties verbatim.
///
/// Ours, and why:
///   enable.idempotence=true, acks=all  the broker writes each message once, in order per
///                                      partition, even across retries and reconnects;
///   compression.codec=zstd             librdkafka compresses in its broker threads; measured
///                                      (perf/micro/mirror_kafka_bench.cpp), zstd at its default
///                                      level cost less CPU per record end to end than lz4 (in
///                                      librdkafka 2.0.2 lz4 took a third of all samples, zstd a
///                                      fifth) and made binary batches 5.4 times smaller, not 3.
///                                      zstd needs Kafka 2.1 or later: for an older cluster set
///                                      compression.codec=lz4 (else every message fails back);
///   linger.ms=5                        batches fill within a few ms of each other;
///   queue.buffering.max.kbytes=65536,
///   queue.buffering.max.messages=100000  what librdkafka may hold in memory is bounded (its
///                                      default is 1 GiB); past it deliver() refuses and the
///                                      runner spools to disk instead;
///   message.timeout.ms=30000           during an outage what librdkafka holds comes back to the
///                                      spool within 30 s rather than 5 minutes;
///   reconnect.backoff.max.ms=2000      a broker that returns is seen within 2 s;
///   statistics.interval.ms=1000        how ready() learns that a broker is up again.

#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>

#include "controlplane/mirror/kafka/kafka_sink.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

struct KafkaConfDeleter {
    void operator()(rd_kafka_conf_t* c) const noexcept { rd_kafka_conf_destroy(c); }
};
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;

/// Error names the property and carries librdkafka's reason: "kafka property 'acks': ...".
Result<KafkaConf, std::string> producer_conf(const KafkaSinkOptions& options);

/// A property's value as librdkafka holds it ("" when unknown).
std::string conf_value(const rd_kafka_conf_t* conf, const char* name);

} // namespace idpath::mirror
