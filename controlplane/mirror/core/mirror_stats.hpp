#pragma once
/// The log mirror's metrics as JSON, for `idpathctl stats` and `idpathctl mirror`
/// (docs/log-mirror.md, "Metrics", says what each field means).
/// Thread-safety: any thread, while the Exporter lives; relaxed reads, so counters of one
/// reply may be from instants a few microseconds apart.

#include <nlohmann/json.hpp>

#include "controlplane/mirror/core/exporter.hpp"

namespace idpath::mirror {

/// {"exporter": {...}, "events": {...}, "sources": [...], "sinks": [...]}.
nlohmann::json mirror_stats_json(const Exporter& exporter);

/// One sink's part of it.
nlohmann::json sink_stats_json(const SinkRunner& runner, std::uint64_t now_ns);

} // namespace idpath::mirror
