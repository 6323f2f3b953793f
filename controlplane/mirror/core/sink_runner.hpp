#pragma once
/// One sink's thread: takes the exporter's batches into a bounded in-memory queue and hands them
/// to Sink::deliver(); when the sink is down, not ready, or slower than the exporter, batches go
/// to the sink's disk spool instead and are replayed from it, oldest first and marked replayed,
/// before any newer batch once the sink is back (docs/log-mirror.md).
///
/// Order: at any time the undelivered batches of a sink are, oldest first, the one in delivery,
/// then the spool, then the queue; a batch goes into the queue only while the spool is empty,
/// and a failed delivery goes to the front of the spool. So per source the sink sees records
/// in seq order, replays included (except a batch a transport fails after accepting it, which
/// comes back through Sink::undelivered behind the batches already accepted after it).
///
/// Loss: only when the spool refuses a batch (full, or a disk error) or there is no spool and
/// the sink is down or behind; each is counted by reason in SinkMetrics::dropped, in records and
/// batches. Nothing is dropped silently.
///
/// Thread-safety: offer() from the exporter thread; metrics() and last_error() from any thread;
/// start(), request_stop(), join() from the thread that owns the runner.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/mirror/core/batch.hpp"
#include "controlplane/mirror/core/event_log.hpp"
#include "controlplane/mirror/core/sink.hpp"
#include "controlplane/mirror/core/spool.hpp"

namespace idpath::mirror {

enum class SinkState : std::uint8_t {
    Up,      // delivering (or idle and not failing)
    Down,    // the last deliver() failed; retried after the runner's backoff
    Backoff, // the sink says it is not ready (reconnect backoff)
};
const char* to_string(SinkState s) noexcept;

enum class DropReason : std::uint8_t {
    SpoolFull,  // the spool is at max_bytes
    SpoolError, // the spool could not write (disk error)
    NoSpool,    // no spool configured and the sink was down or not ready
    QueueFull,  // no spool configured and the sink, up, fell behind the exporter
};
inline constexpr std::size_t kDropReasons = 4;
const char* to_string(DropReason r) noexcept;

/// What a runner has done; read by the admin thread with relaxed loads. "records" counts
/// everything a batch carries: query records, heartbeats and events (Batch::size()).
struct SinkMetrics {
    struct Count {
        std::atomic<std::uint64_t> records{0};
        std::atomic<std::uint64_t> batches{0};
        void add(const Batch& b) noexcept
        {
            records.fetch_add(b.size(), std::memory_order_relaxed);
            batches.fetch_add(1, std::memory_order_relaxed);
        }
    };
    Count sent;     // deliver() took them, replays included
    Count spooled;  // written to the spool
    Count replayed; // of sent: read back from the spool
    Count undelivered; // handed back by the transport after it took them (then spooled or dropped)
    std::array<Count, kDropReasons> dropped;
    std::atomic<std::uint64_t> delivery_failures{0}; // deliver() calls that failed
    std::atomic<std::uint64_t> queue_batches{0};
    std::atomic<std::uint64_t> spool_bytes{0};
    std::atomic<std::uint64_t> spool_batches{0};
    std::atomic<std::uint64_t> spool_records{0};
    std::atomic<std::uint64_t> spool_corrupt_segments{0};
    std::atomic<std::uint64_t> spool_corrupt_bytes{0};
    std::atomic<SinkState> state{SinkState::Up};
    /// CLOCK_REALTIME ns of the oldest record or event not yet delivered; 0 when none waits.
    std::atomic<std::uint64_t> oldest_pending_ns{0};

    const Count& dropped_for(DropReason r) const noexcept { return dropped[static_cast<std::size_t>(r)]; }
    /// now - oldest_pending_ns in ms (0 when nothing waits).
    std::uint64_t lag_ms(std::uint64_t now_ns) const noexcept;
};

struct SinkRunnerOptions {
    std::string name;                                 // in metrics and sink.state events; default sink->kind()
    std::size_t queue_batches = 64;                   // the in-memory queue's bound
    std::chrono::milliseconds tick{100};              // Sink::tick() cadence (at most 100 ms)
    std::chrono::milliseconds retry_min{100};         // after a failed deliver(), doubled per failure
    std::chrono::milliseconds retry_max{5000};
};

class SinkRunner {
public:
    /// `spool` may be null (spool off: the queue is the only buffer). `events` (may be null)
    /// receives a "sink.state" event on every state change.
    SinkRunner(std::unique_ptr<Sink> sink, std::unique_ptr<Spool> spool, EventLog* events,
               SinkRunnerOptions options = {});
    /// Stops with no flush time if still running.
    ~SinkRunner();
    SinkRunner(const SinkRunner&) = delete;
    SinkRunner& operator=(const SinkRunner&) = delete;

    void start();
    /// Takes a batch; never waits for the sink (it may write to the spool).
    void offer(std::shared_ptr<const Batch> batch);
    /// Asks the thread to finish by `deadline`: it delivers what the queue holds while the sink
    /// takes it, spools the rest, flushes the sink with the time left and seals the spool.
    void request_stop(std::chrono::steady_clock::time_point deadline);
    void join();
    void stop(std::chrono::milliseconds flush_timeout)
    {
        request_stop(std::chrono::steady_clock::now() + flush_timeout);
        join();
    }

    const std::string& name() const noexcept { return options_.name; }
    const SinkMetrics& metrics() const noexcept { return metrics_; }
    std::string last_error() const;
    bool has_spool() const noexcept { return spool_ != nullptr; }
    std::uint64_t spool_max_bytes() const noexcept { return spool_max_bytes_; }
    std::size_t queue_capacity() const noexcept { return options_.queue_batches; }

private:
    using Clock = std::chrono::steady_clock;

    void run();
    bool step(Clock::time_point now);
    bool deliver(const Batch& b, bool replay);
    void fail(const std::string& why, Clock::time_point now);
    void set_state(SinkState s, const std::string& why);
    void absorb_returned();
    // With mutex_ held.
    /// At the spool's back (newest), or its front (older than everything in it); a batch the
    /// spool refuses is dropped.
    void spool_locked(const Batch& b, bool front);
    void spool_queue_locked();
    void drop_locked(const Batch& b, DropReason r);
    void publish_spool_locked();
    void update_lag();
    void finish(Clock::time_point deadline);

    std::unique_ptr<Sink> sink_;
    std::unique_ptr<Spool> spool_;
    const std::uint64_t spool_max_bytes_;
    EventLog* events_;
    SinkRunnerOptions options_;
    SinkMetrics metrics_;

    mutable std::mutex mutex_; // queue_, spool_, stop_, deadline_, last_error_
    std::condition_variable wake_;
    std::deque<std::shared_ptr<const Batch>> queue_;
    bool stop_ = false;
    bool wake_pending_ = false;
    Clock::time_point deadline_{};
    std::string last_error_;

    std::mutex returned_mutex_;
    std::vector<Batch> returned_; // from Sink::undelivered, any thread

    // The runner thread's own.
    std::thread thread_;
    Clock::time_point retry_at_{};
    std::chrono::milliseconds retry_delay_{0};
};

} // namespace idpath::mirror
