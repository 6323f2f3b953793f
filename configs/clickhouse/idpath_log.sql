-- idpath log mirror: the ClickHouse tables the clickhouse sink inserts into
-- (docs/log-clickhouse.md; fields as docs/log-schema.md). Written for ClickHouse 18.16, the
-- version Debian 12 ships, so it uses only what that has: no TTL, no column codecs, no
-- LowCardinality (experimental there), no IPv4/IPv6 column types. Apply it once:
--     clickhouse-client --multiquery < configs/clickhouse/idpath_log.sql
--
-- Rows arrive as JSONEachRow with the column names below; `time`, `date` and `prefix` are
-- MATERIALIZED: computed by the server from time_ns and handle at insert.
--
-- Engine: ReplacingMergeTree. An HTTP insert is not idempotent: when a timeout hides a commit,
-- the sink's spool replays the batch and the rows arrive twice. The sorting key is each row's
-- identity (node, source, seq, with time and kind), so a copy collapses when parts merge;
-- until then `SELECT ... FINAL` or uniqExact(seq) counts exactly (queries.sql). Leading with
-- `time` keeps time-range queries on the primary index.
--
-- Retention (six months): the tables are partitioned by month (UTC), and the sink drops every
-- partition whose days are all older than mirror.clickhouse.retention_days (default 183) with
-- ALTER TABLE ... DROP PARTITION, at start and daily. On a server with TTL (19.6 and later)
-- set retention_days to 0 and add instead, e.g.:
--     ALTER TABLE idpath.records MODIFY TTL date + INTERVAL 6 MONTH;
--     ALTER TABLE idpath.events MODIFY TTL date + INTERVAL 6 MONTH;
-- (or `TTL date + INTERVAL 6 MONTH` after ORDER BY below), and on such servers consider
-- LowCardinality(String) for node_id, sw_version, opcode_name, response_code_name and
-- CODEC(Delta, ZSTD) for time_ns and seq.

CREATE DATABASE IF NOT EXISTS idpath;

-- One row per query (kind 'query') and per heartbeat (kind 'heartbeat': a serving thread's
-- cumulative produced/lost counters every few seconds; its query columns keep their defaults).
CREATE TABLE IF NOT EXISTS idpath.records
(
    node_id String,                 -- config node.id
    sw_version String,              -- idpath version
    kind Enum8('query' = 1, 'heartbeat' = 2),
    source UInt16,                  -- serving thread (lcore or socket thread index)
    seq UInt64,                     -- per source from 1, queries and heartbeats; a gap is loss
    time_ns UInt64,                 -- receive time (query) or write time (heartbeat), Unix ns UTC
    time DateTime('UTC') MATERIALIZED toDateTime(intDiv(time_ns, 1000000000), 'UTC'),
    date Date MATERIALIZED toDate(time),
    replayed UInt8,                 -- 1: delivered late, from the sink's spool
    client_ip String,               -- dotted quad for IPv4, RFC 5952 text for IPv6
    client_port UInt16,
    server_ip String,
    server_port UInt16,
    family UInt8,                   -- 4 or 6
    transport Enum8('unknown' = -1, 'none' = 0, 'udp' = 1, 'tcp' = 2),
    opcode UInt32,
    opcode_name String,             -- "OC_RESOLUTION"; empty when unknown
    response_code UInt32,
    response_code_name String,      -- "RC_SUCCESS", "RC_HANDLE_NOT_FOUND"; empty when unknown
    values UInt16,                  -- values in a success answer
    request_bytes UInt32,
    response_bytes UInt32,
    datagrams UInt16,
    latency_ns UInt32,              -- receive to reply handed to the transport; 0: no reply
    action Enum8('unknown' = -1, 'allowed' = 0, 'denied' = 1, 'rate_limited' = 2, 'recursed' = 3, 'resolved' = 4),
    silence Enum8('unknown' = -1, 'none' = 0, 'bad_envelope' = 1, 'bad_message' = 2, 'not_a_request' = 3),
    malformed UInt8,
    oversize UInt8,
    multi_datagram_request UInt8,
    handle String,                  -- as the client sent it (exact octets), at most 168 of them
    handle_length UInt16,           -- the handle's full length
    handle_truncated UInt8,
    prefix String MATERIALIZED splitByChar('/', handle)[1], -- the naming authority: before '/'
    produced UInt64,                -- heartbeat: records this source produced (== its last seq)
    lost UInt64                     -- heartbeat: of which lost because its ring was full
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (time, node_id, source, kind, seq, time_ns)
SETTINGS index_granularity = 8192;

-- One row per control-plane event: table loads and updates, config reloads, admin actions,
-- sink state changes, with their details as key/value arrays (fields.key[i] = fields.value[i]).
CREATE TABLE IF NOT EXISTS idpath.events
(
    node_id String,
    sw_version String,
    seq UInt64,                     -- the control plane's own sequence, from 1
    time_ns UInt64,
    time DateTime('UTC') MATERIALIZED toDateTime(intDiv(time_ns, 1000000000), 'UTC'),
    date Date MATERIALIZED toDate(time),
    replayed UInt8,
    category String,                -- "table.load", "config.reload", "admin", "sink.state", ...
    fields Nested(key String, value String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (time, node_id, seq, time_ns)
SETTINGS index_granularity = 8192;
