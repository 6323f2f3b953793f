#pragma once
/// How a Batch becomes Kafka messages (kafka_sink.hpp says why this way): grouped by source, in
/// the order each source first appears, a source's records in batch order, events last (source
/// kControlSource); each group cut into messages of at most `message_records` items and
/// `max_bytes` octets, encoded into one buffer that lives until the last delivery report.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/mirror/core/batch.hpp"
#include "controlplane/mirror/kafka/kafka_sink.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

/// One message: a slice of Payload::bytes.
struct Piece {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::uint16_t source = 0;
    bool events = false;     // carries events (source kControlSource), not records
    std::uint32_t first = 0; // JSON: its first item in Payload::held's records or events
    std::uint32_t items = 0; // records or events in it
};

struct Payload {
    std::string bytes;
    std::vector<Piece> pieces;
    /// JSON: the batch's records grouped by source, so a failed piece is a range of it. Binary
    /// keeps nothing: a piece is a whole binary batch and decodes back.
    Batch held;
};

/// Fills `out` (cleared first). An empty batch gives no pieces. A single item longer than
/// `max_bytes` still gets its own piece: librdkafka then refuses it, and the sink counts it.
void cut_messages(const Batch& batch, const Origin& origin, KafkaFormat format,
                  std::size_t message_records, std::size_t max_bytes, Payload& out);

/// The records (or events) of one piece, as a batch to hand back: same id, same replayed flag.
Result<Batch, std::string> piece_batch(const Payload& payload, const Piece& piece, KafkaFormat format);

} // namespace idpath::mirror
