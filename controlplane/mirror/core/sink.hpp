#pragma once
/// One destination of the log mirror: files, syslog, Kafka, ClickHouse. A SinkRunner (its own
/// thread, sink_runner.hpp) calls it; a sink never sees the serving threads.
///
/// Contract: deliver() either takes the batch (Ok: written, or queued in a transport that
/// reports delivery later) or refuses it (Err: down now; the runner spools it and retries
/// later). A transport that later fails a batch it took hands it back through undelivered(),
/// so nothing accepted is lost silently. deliver() may block for at most the sink's own I/O
/// timeout: it runs on the sink's thread, never on a serving thread.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "controlplane/mirror/core/batch.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

class Sink {
public:
    virtual ~Sink() = default;

    /// "file", "syslog", "kafka", "clickhouse", and the instance name from config.
    virtual std::string kind() const = 0;

    virtual Result<void, std::string> deliver(const Batch& batch) = 0;

    /// Periodic housekeeping on the sink's thread (rotation, retention, delivery reports,
    /// reconnect attempts). Called at least every 100 ms.
    virtual void tick() {}

    /// Pushes out what deliver() buffered; true when all is delivered within `timeout`.
    virtual bool flush(std::chrono::milliseconds timeout) { (void)timeout; return true; }

    /// Whether deliver() is worth trying now (false while reconnect backoff runs): the runner
    /// spools instead of calling deliver() while false.
    virtual bool ready() { return true; }

    /// Set by the runner before the first deliver(): batches a transport failed after taking.
    std::function<void(Batch&&)> undelivered;
};

} // namespace idpath::mirror
