#pragma once
/// Counters as the admin API's JSON (`idpathctl stats`): one shape for every transport, so
/// sums and per-thread views line up. Zero counters of a named family are left out.
/// Thread-safety: reads single-writer counters; any thread.

#include <nlohmann/json.hpp>

#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/worker/worker.hpp"

namespace idpath::app {

/// requests, answers, datagrams, bytes, responses by RC name, silenced and wire errors.
nlohmann::json resolve_stats_json(const resolve::ResolveStats& s);

/// A DPDK worker's counters: frames in and out, drops and their causes, verdicts and malformed
/// reasons by name, exception-path traffic, and its resolver counters under "answers".
nlohmann::json worker_stats_json(const worker::WorkerStats& s);

/// What the table costs (the "table" object of both `idpathctl status` and `stats`): handles,
/// value_bytes (encoded values), memory_bytes (bucket arrays and record arenas), shards,
/// bytes_per_identifier and overhead_bytes_per_identifier (beyond the encoded values: keys, slots,
/// record headers; DESIGN.md section 7 budgets 64 B), and where that memory lives: `memory`
/// "dpdk-hugepages", "anonymous" or "mixed" (some blocks did not fit in the hugepages),
/// `memory_kinds` (live table bytes of each) and `memory_fallbacks` (blocks that did not fit, since
/// start). `t` may be null (no table yet).
nlohmann::json table_json(const table::Table* t);

/// Sums every unsigned leaf of `from` into `into` (same shape; objects merge).
void add_into(nlohmann::json& into, const nlohmann::json& from);

} // namespace idpath::app
