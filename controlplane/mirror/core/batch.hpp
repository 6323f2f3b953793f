#pragma once
/// What the exporter hands every sink: a run of query/heartbeat records drained from the
/// serving threads' rings plus the control-plane events posted meanwhile. Immutable once
/// made; shared by all sinks (std::shared_ptr<const Batch>).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/querylog/record.hpp"

namespace idpath::mirror {

/// A control-plane event: a table load or update, a config reload, an operator's admin
/// action, a sink changing state (docs/log-schema.md lists the categories and their fields).
struct Event {
    std::uint64_t seq = 0;     // control plane's own sequence (source kControlSource), from 1
    std::uint64_t time_ns = 0; // CLOCK_REALTIME
    std::string category;      // "table.load", "table.update", "config.reload", "admin", "sink.state", ...
    /// Flat key/value details, in order; values are text (numbers as decimal).
    std::vector<std::pair<std::string, std::string>> fields;
};

/// Record::source / the source field of events written by the control plane.
inline constexpr std::uint16_t kControlSource = 0xffff;

struct Batch {
    std::uint64_t id = 0;  // the exporter's batch number, from 1
    bool replayed = false; // read back from a spool: delivered late, not live
    std::vector<querylog::Record> records;
    std::vector<Event> events;

    std::size_t size() const noexcept { return records.size() + events.size(); }
};

/// Identity stamped on every encoded record (the platform tells nodes apart by it).
struct Origin {
    std::string node_id;   // config node.id
    std::string version;   // idpath version
};

} // namespace idpath::mirror
