#pragma once
/// The control plane's side of the log mirror: table loads and updates, config reloads, admin
/// actions and sink state changes become Events in the same stream as the serving threads'
/// records (source kControlSource).
///
/// A bounded queue: post() never blocks and never allocates beyond the event it is given; when
/// the queue is full the event is lost, counted, and its sequence number still advances, so a gap
/// in the control source's seq downstream is exactly the events lost (as for the rings).
/// Thread-safety: any thread (a mutex: control plane only, never a serving thread). The exporter
/// drains it (exporter.hpp).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/mirror/core/batch.hpp"

namespace idpath::mirror {

using EventFields = std::vector<std::pair<std::string, std::string>>;

class EventLog {
public:
    static constexpr std::size_t kDefaultCapacity = 4096;

    explicit EventLog(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

    /// Queues an event stamped with the next seq (from 1) and CLOCK_REALTIME now. Returns false
    /// when the queue was full and the event was lost (counted in lost()).
    bool post(std::string category, EventFields fields = {});

    /// Moves up to `max` queued events, oldest first, to the end of `out`; returns how many.
    std::size_t drain(std::vector<Event>& out, std::size_t max);

    std::uint64_t posted() const noexcept { return posted_.load(std::memory_order_relaxed); }
    std::uint64_t lost() const noexcept { return lost_.load(std::memory_order_relaxed); }
    std::size_t pending() const;
    std::size_t capacity() const noexcept { return capacity_; }

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<Event> queue_;
    std::uint64_t seq_ = 0;
    std::atomic<std::uint64_t> posted_{0}; // every post(), lost ones included (== the last seq)
    std::atomic<std::uint64_t> lost_{0};
};

/// CLOCK_REALTIME in nanoseconds: the time base of records and events.
std::uint64_t realtime_ns() noexcept;

} // namespace idpath::mirror
