#pragma once
/// Counters as the admin API's JSON (`idpathctl stats`): one shape for every transport, so
/// sums and per-thread views line up. Zero counters of a named family are left out.
/// Thread-safety: reads single-writer counters; any thread.

#include <nlohmann/json.hpp>

#include "dataplane/resolve/stats.hpp"
#include "dataplane/worker/worker.hpp"

namespace idpath::app {

/// requests, answers, datagrams, bytes, responses by RC name, silenced and wire errors.
nlohmann::json resolve_stats_json(const resolve::ResolveStats& s);

/// A DPDK worker's counters: frames in and out, drops and their causes, verdicts and malformed
/// reasons by name, exception-path traffic, and its resolver counters under "answers".
nlohmann::json worker_stats_json(const worker::WorkerStats& s);

/// Sums every unsigned leaf of `from` into `into` (same shape; objects merge).
void add_into(nlohmann::json& into, const nlohmann::json& from);

} // namespace idpath::app
