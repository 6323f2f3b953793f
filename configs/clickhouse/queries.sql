-- idpath log mirror: queries a security team runs on the ClickHouse tables of idpath_log.sql
-- (docs/log-clickhouse.md). Written for ClickHouse 18.16 (Debian 12): no window functions, so
-- baselines are scalar subqueries. Each query is named (`-- name:`) and the unit test
-- tests/unit/mirror/clickhouse runs every one against a real 18.16 server.
--
-- Exactness: rows a spool replayed after a lost answer can be present twice until their parts
-- merge (ReplacingMergeTree). Counts below are plain count(), fine for trends: add FINAL after
-- the table name, or count uniqExact(node_id, source, seq), when a figure must be exact.
-- Windows are relative to now(). Narrow `time` first: it leads the primary key.

-- name: top_clients
-- The busiest clients of the last 24 hours, with their error share and spread over prefixes.
SELECT
    client_ip,
    count() AS queries,
    countIf(response_code != 1) AS not_success,
    round(not_success / queries, 4) AS not_success_rate,
    uniqExact(prefix) AS prefixes,
    uniqExact(handle) AS handles
FROM idpath.records
WHERE kind = 'query' AND time >= now() - INTERVAL 1 DAY
GROUP BY client_ip
ORDER BY queries DESC
LIMIT 20;

-- name: top_networks
-- The same by network: IPv4 /24, IPv6 /48 (one scanner often spreads over a subnet).
SELECT
    if(family = 4,
       IPv4NumToStringClassC(IPv4StringToNum(client_ip)),
       cutIPv6(IPv6StringToNum(client_ip), 10, 0)) AS network,
    count() AS queries,
    uniqExact(client_ip) AS clients
FROM idpath.records
WHERE kind = 'query' AND time >= now() - INTERVAL 1 DAY
GROUP BY network
ORDER BY queries DESC
LIMIT 20;

-- name: response_codes
-- Response codes of the last hour and their share of all queries.
SELECT
    response_code,
    any(response_code_name) AS name,
    count() AS queries,
    round(100 * queries / (SELECT count() FROM idpath.records
                           WHERE kind = 'query' AND time >= now() - INTERVAL 1 HOUR), 2) AS percent
FROM idpath.records
WHERE kind = 'query' AND time >= now() - INTERVAL 1 HOUR
GROUP BY response_code
ORDER BY queries DESC;

-- name: error_rate_over_time
-- Error rates per 5 minutes over the last 6 hours: not found (enumeration), errors, silenced
-- (malformed or not a request), denied by policy.
SELECT
    toStartOfFiveMinute(time) AS t,
    count() AS queries,
    round(countIf(response_code = 100) / queries, 4) AS not_found_rate,
    round(countIf(response_code NOT IN (1, 100) AND silence = 'none') / queries, 4) AS error_rate,
    round(countIf(silence != 'none') / queries, 4) AS silenced_rate,
    round(countIf(action != 'allowed') / queries, 4) AS denied_rate
FROM idpath.records
WHERE kind = 'query' AND time >= now() - INTERVAL 6 HOUR
GROUP BY t
ORDER BY t;

-- name: prefix_volume
-- Volume per prefix (the naming authority: the handle before '/') over the last 24 hours.
SELECT
    prefix,
    count() AS queries,
    uniqExact(client_ip) AS clients,
    countIf(response_code = 100) AS not_found,
    sum(response_bytes) AS bytes_out
FROM idpath.records
WHERE kind = 'query' AND time >= now() - INTERVAL 1 DAY
GROUP BY prefix
ORDER BY queries DESC
LIMIT 50;

-- name: minute_spikes
-- Minutes of the last hour with more than 3 times the median queries per minute of the last
-- 24 hours.
SELECT
    toStartOfMinute(time) AS minute,
    count() AS queries,
    (SELECT quantile(0.5)(n) FROM
        (SELECT toStartOfMinute(time) AS m, count() AS n FROM idpath.records
         WHERE kind = 'query' AND time >= now() - INTERVAL 1 DAY GROUP BY m)) AS baseline,
    round(queries / baseline, 2) AS ratio
FROM idpath.records
WHERE kind = 'query' AND time >= now() - INTERVAL 1 HOUR
GROUP BY minute
HAVING queries > 3 * baseline
ORDER BY minute;

-- name: client_spikes
-- Clients that sent more than 1000 queries in any one minute of the last hour.
SELECT
    client_ip,
    toStartOfMinute(time) AS minute,
    count() AS queries,
    uniqExact(handle) AS handles
FROM idpath.records
WHERE kind = 'query' AND time >= now() - INTERVAL 1 HOUR
GROUP BY client_ip, minute
HAVING queries > 1000
ORDER BY queries DESC
LIMIT 50;

-- name: sequence_gaps
-- Loss per serving thread over the last hour. Every record, query or heartbeat, takes the
-- source's next seq, so seqs missing between the first and last received are records lost:
-- `ring_lost` of them were lost on the node (ring full, counted by heartbeats), the rest on the
-- way here. A restart of idpathd starts seq again from 1: query a window after it.
SELECT
    node_id,
    source,
    min(seq) AS first_seq,
    max(seq) AS last_seq,
    last_seq - first_seq + 1 AS expected,
    uniqExact(seq) AS received,
    expected - received AS missing,
    maxIf(lost, kind = 'heartbeat') - minIf(lost, kind = 'heartbeat') AS ring_lost,
    max(time) AS last_seen
FROM idpath.records
WHERE time >= now() - INTERVAL 1 HOUR
GROUP BY node_id, source
ORDER BY missing DESC, node_id, source;

-- name: silent_sources
-- Serving threads whose last heartbeat is more than a minute old (heartbeats come every few
-- seconds): a stopped node, a stuck thread or a broken feed.
SELECT
    node_id,
    source,
    max(time) AS last_heartbeat,
    max(produced) AS produced,
    max(lost) AS lost
FROM idpath.records
WHERE kind = 'heartbeat' AND time >= now() - INTERVAL 1 DAY
GROUP BY node_id, source
HAVING last_heartbeat < now() - INTERVAL 1 MINUTE
ORDER BY last_heartbeat;

-- name: recent_events
-- The control plane's changes: table loads and updates, config reloads, admin actions.
SELECT
    time,
    node_id,
    category,
    arrayStringConcat(arrayMap((k, v) -> concat(k, '=', v), fields.key, fields.value), ' ') AS details
FROM idpath.events
WHERE time >= now() - INTERVAL 7 DAY
ORDER BY time DESC, seq DESC
LIMIT 100;
