#pragma once
/// The log mirror's one exporter thread: drains every serving thread's ring (ring_set.hpp) and
/// the control plane's EventLog, cuts Batches of up to batch_records records and events, or
/// whatever has waited batch_interval, and hands each batch to every SinkRunner.
///
/// Records are copied out of the rings into the batch and the ring slots released at once, so a
/// slow sink never holds a serving thread's ring; from there on a batch is immutable and shared.
/// Per source the exporter keeps the last seq seen and counts the seqs missing (gaps): the
/// records a full ring lost, as the source's heartbeats report them in-band (SourceMetrics).
///
/// Idle, it sleeps (idle_sleep, 1 ms) rather than spin: it runs on the control core.
/// Thread-safety: start() and stop() from the owning thread; the metrics from any thread. The
/// RingSet's entries must not change after the Exporter is made.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/mirror/core/batch.hpp"
#include "controlplane/mirror/core/event_log.hpp"
#include "controlplane/mirror/core/ring_set.hpp"
#include "controlplane/mirror/core/sink_runner.hpp"

namespace idpath::mirror {

struct ExporterOptions {
    std::size_t batch_records = 4096;               // config mirror.batch_records
    std::chrono::milliseconds batch_interval{200};  // config mirror.batch_ms
    std::chrono::microseconds idle_sleep{1000};
};

/// One source's view from the exporter: the serving thread's ring, or the control plane's
/// events (source kControlSource, name "control").
struct SourceMetrics {
    std::uint16_t source = 0;
    std::string name;
    std::atomic<std::uint64_t> received{0};   // records (or events) taken from it
    std::atomic<std::uint64_t> heartbeats{0}; // of received
    std::atomic<std::uint64_t> gaps{0};       // seqs never received: lost before the exporter
    std::atomic<std::uint64_t> last_seq{0};
    /// The counts of the last heartbeat received (cumulative at the source when written).
    std::atomic<std::uint64_t> heartbeat_produced{0};
    std::atomic<std::uint64_t> heartbeat_lost{0};
    /// Gaps counted below the last heartbeat's seq: equals heartbeat_lost unless a record went
    /// missing after the ring, which would be a bug (so it is shown).
    std::atomic<std::uint64_t> gaps_at_heartbeat{0};

    SourceMetrics(std::uint16_t s, std::string n) : source(s), name(std::move(n)) {}
};

struct ExporterMetrics {
    std::atomic<std::uint64_t> records{0};    // ring records batched (heartbeats included)
    std::atomic<std::uint64_t> heartbeats{0};
    std::atomic<std::uint64_t> events{0};
    std::atomic<std::uint64_t> batches{0};
};

class Exporter {
public:
    Exporter(RingSet& rings, EventLog& events, std::vector<std::unique_ptr<SinkRunner>> runners,
             ExporterOptions options = {});
    /// Stops with no flush time if still running.
    ~Exporter();
    Exporter(const Exporter&) = delete;
    Exporter& operator=(const Exporter&) = delete;

    /// Starts every runner, then the exporter thread.
    void start();
    /// Call after the serving threads stopped: drains what the rings and the event log still
    /// hold into final batches, then stops every runner, all within `flush_timeout` of each
    /// other (they flush their sinks in parallel). Idempotent.
    void stop(std::chrono::milliseconds flush_timeout);

    const ExporterMetrics& metrics() const noexcept { return metrics_; }
    /// One per ring, in RingSet order, then the control source.
    const std::vector<std::unique_ptr<SourceMetrics>>& sources() const noexcept { return sources_; }
    const std::vector<std::unique_ptr<SinkRunner>>& runners() const noexcept { return runners_; }
    const RingSet& rings() const noexcept { return rings_; }
    const EventLog& events() const noexcept { return events_; }
    const ExporterOptions& options() const noexcept { return options_; }

private:
    void run();
    /// Takes what is readable from every ring and the event log; true when anything was.
    bool drain_pass();
    void note_record(SourceMetrics& m, const querylog::Record& r);
    void note_seq(SourceMetrics& m, std::uint64_t seq);
    void cut();

    RingSet& rings_;
    EventLog& events_;
    std::vector<std::unique_ptr<SinkRunner>> runners_;
    ExporterOptions options_;
    ExporterMetrics metrics_;
    std::vector<std::unique_ptr<SourceMetrics>> sources_;

    std::thread thread_;
    std::atomic<bool> stop_{false};
    bool started_ = false;
    bool stopped_ = false;

    // The exporter thread's own.
    Batch current_;
    std::chrono::steady_clock::time_point current_since_{};
    std::uint64_t next_batch_id_ = 1;
};

} // namespace idpath::mirror
