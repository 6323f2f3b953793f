#pragma once
/// idpathctl's human views of the daemon's JSON answers: pure functions, unit-tested.

#include <string>

#include <nlohmann/json.hpp>

namespace idpath::tools {

/// The DPDK data plane's counters (`stats` → "dataplane") as fixed-width tables: one row per
/// lcore and queue, one per device, one per XDP program. A daemon in sockets mode gives a
/// one-line explanation instead.
std::string format_workers(const nlohmann::json& stats);

} // namespace idpath::tools
