#pragma once
/// The log schema's encoded forms (docs/log-schema.md, schema version kSchemaVersion): one JSON
/// object per line, and a compact binary batch (what files, Kafka and the spool carry).
/// Pure functions; encoding appends to `out` and never throws but std::bad_alloc.

#include <cstdint>
#include <string>

#include "controlplane/mirror/core/batch.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

inline constexpr std::uint32_t kSchemaVersion = 1;

/// Encodes records and events one at a time for one Origin: the part of every line that depends
/// only on the origin is made once, not per record (sinks that send one record per message).
class JsonEncoder {
public:
    explicit JsonEncoder(const Origin& origin);
    /// One JSON object, no newline.
    void record(const querylog::Record& r, bool replayed, std::string& out) const;
    void event(const Event& e, bool replayed, std::string& out) const;

private:
    std::string prefix_;
};

/// One JSON object, no newline, for a query or heartbeat record.
void encode_json(const querylog::Record& r, const Origin& origin, bool replayed, std::string& out);
/// One JSON object, no newline, for an event.
void encode_json(const Event& e, const Origin& origin, bool replayed, std::string& out);
/// Every record and event of `b`, one JSON object per line, each line ending in '\n'.
void encode_json_lines(const Batch& b, const Origin& origin, std::string& out);

/// The compact binary form of a whole batch (self-delimiting: magic, version, lengths).
void encode_binary(const Batch& b, const Origin& origin, std::string& out);

struct DecodedBatch {
    Batch batch;
    Origin origin;
};
/// Reads one binary batch from the front of `in`; `consumed` gets its length. Refuses (with the
/// reason) anything malformed, truncated or of an unknown schema version; never reads past `in`.
Result<DecodedBatch, std::string> decode_binary(ByteSpan in, std::size_t& consumed);

} // namespace idpath::mirror
