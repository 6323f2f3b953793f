#pragma once
/// The rows the ClickHouse sink inserts (FORMAT JSONEachRow), one flat object per record or
/// event, its keys the columns of configs/clickhouse/idpath_log.sql. The generic JSON lines
/// (encode.hpp) do not map onto 18.16's columns as they are: RFC 3339 time, JSON booleans and
/// the events' `fields` object are not parsed by its JSONEachRow. So this form keeps the
/// schema's field names (docs/log-schema.md) but writes what 18.16 reads: numbers for flags,
/// time as time_ns only (the table derives `time` and `date` from it), the handle's exact
/// octets (ClickHouse strings are octets; nothing is replaced), and events' fields as the
/// parallel arrays of a Nested column.

#include <string>

#include "controlplane/mirror/core/batch.hpp"

namespace idpath::mirror::clickhouse {

/// Every record of `b` (queries and heartbeats), one JSON object per line, appended to `out`.
void encode_record_rows(const Batch& b, const Origin& origin, std::string& out);

/// Every event of `b`, one JSON object per line, appended to `out`.
void encode_event_rows(const Batch& b, const Origin& origin, std::string& out);

} // namespace idpath::mirror::clickhouse
