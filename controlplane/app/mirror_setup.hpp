#pragma once
/// The log mirror as idpathd assembles it from the `mirror.*` keys (docs/log-mirror.md): the
/// sinks and their spools made (and refused, naming the key) before anything serves, one ring
/// per serving thread handed out as the transports start, the exporter started once every ring
/// exists, and everything flushed after the serving threads stopped. Probe mode
/// (mirror.probe.*) rides along: a probe ring per serving thread next to its log ring, drained
/// by a ProbeWriter into pcapng files; either may be on without the other.
///
/// Thread-safety: make(), add_source(), start() and stop() from the main thread; events() and
/// stats_json() from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/config/config.hpp"
#include "controlplane/mirror/core/event_log.hpp"
#include "controlplane/mirror/core/ring_set.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/querylog/probe.hpp"
#include "dataplane/querylog/target.hpp"

namespace idpath::mirror {
class Exporter;
class ProbeWriter;
class SinkRunner;
} // namespace idpath::mirror

namespace idpath::app {

class MirrorSetup {
public:
    /// Null when no sink is configured and the probe is off (the mirror off). Error: a sink, a
    /// spool or the probe directory that cannot be made, "mirror.<sink>...: reason".
    static Result<std::unique_ptr<MirrorSetup>, std::string> make(const config::Config& cfg);
    ~MirrorSetup();
    MirrorSetup(const MirrorSetup&) = delete;
    MirrorSetup& operator=(const MirrorSetup&) = delete;

    /// A ring for one more serving thread ("udp-0", "tcp", "lcore-3"), before start(); a null
    /// ring when no sink is on (only the probe).
    querylog::Target add_source(std::string name);
    /// A probe ring for one more serving thread, before start(); a null ring when the probe
    /// is off.
    querylog::ProbeTarget add_probe_source(std::string name);
    void set_probe_stats(const querylog::ProbeTarget& target, const querylog::ProbeStats* stats);
    /// The producer's counters of the source add_source() returned `target` for.
    void set_source_stats(const querylog::Target& target, const querylog::QueryLogStats* stats);

    /// Starts the sinks' threads and the exporter. After every add_source().
    void start();
    /// Drains the rings and the events into last batches and flushes the sinks, within
    /// `flush_timeout`; what a sink did not take by then stays in its spool. Idempotent.
    void stop(std::chrono::milliseconds flush_timeout);

    mirror::EventLog& events() noexcept { return events_; }
    /// Whether records and events go anywhere (some sink is on), not only probed packets.
    bool logging() const noexcept { return log_on_; }
    nlohmann::json stats_json() const;
    std::vector<std::string> sink_names() const;

private:
    MirrorSetup(const config::Config& cfg);

    std::uint64_t heartbeat_ns_;
    mirror::RingSet rings_;
    mirror::EventLog events_;
    std::vector<std::unique_ptr<mirror::SinkRunner>> runners_; // until start() hands them over
    std::unique_ptr<mirror::Exporter> exporter_;
    bool log_on_ = false; // some sink is configured
    std::unique_ptr<mirror::ProbeWriter> probe_;
    std::size_t batch_records_;
    std::chrono::milliseconds batch_interval_;
    bool stopped_ = false;
};

} // namespace idpath::app
