#pragma once
/// A worker thread's loop over its flows: send until the deadline, the count or a stop request,
/// then wait up to one timeout for the answers still due, then count the rest as lost.
/// Busy-polls while traffic moves and sleeps in ppoll() when nothing does.
/// Thread-safety: run_worker() owns its flows; RunControl is shared read-only (stop is atomic).

#include <poll.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "perf/gun/clock.hpp"
#include "perf/gun/flow.hpp"

namespace idpath::gun {

struct RunControl {
    std::atomic<bool> stop{false}; // set on SIGINT/SIGTERM: stop sending, then drain
    std::uint64_t send_until_ns = 0;
    std::uint64_t drain_ns = 0; // the answer timeout
    /// Workers still sending or waiting for answers. Every worker reads until this is 0 (or the
    /// drain deadline): under --xdp an answer lands on whichever queue the interface picks, so a
    /// worker whose own queries are all answered may still hold another's answers.
    mutable std::atomic<unsigned> busy{0};
};

struct WorkerResult {
    std::uint64_t send_end_ns = 0; // when this worker stopped sending
    std::string error;             // first flow failure, if any
    std::atomic<bool> done{false};
};

/// Longest sleep while waiting for answers; bounds how late a timeout is noticed.
inline constexpr std::uint64_t kIdleWaitNs = 1'000'000;

template <class Port>
void run_worker(std::span<const std::unique_ptr<Flow<Port>>> flows, const RunControl& control, WorkerResult& result)
{
    // ppoll's default 50 us slack would stretch open-loop gaps at high rates.
    (void)::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    std::vector<pollfd> fds(flows.size());
    bool sending = true;
    bool busy = true; // counted in control.busy (set to the number of workers before they start)
    std::uint64_t drain_until = 0;
    for (;;) {
        const std::uint64_t now = monotonic_ns();
        if (sending) {
            const bool all_done = std::all_of(flows.begin(), flows.end(),
                                              [](const auto& f) { return f->exhausted() || f->failed(); });
            if (all_done || now >= control.send_until_ns || control.stop.load(std::memory_order_relaxed)) {
                sending = false;
                result.send_end_ns = now;
                drain_until = now + control.drain_ns;
            }
        }

        bool moved = false;
        std::uint64_t outstanding = 0;
        std::uint64_t wait = kIdleWaitNs;
        for (const auto& f : flows) {
            moved |= f->step(sending);
            outstanding += f->outstanding();
            if (sending)
                wait = std::min(wait, f->wait_ns(now));
        }
        if (!sending && busy && outstanding == 0) {
            busy = false;
            control.busy.fetch_sub(1, std::memory_order_acq_rel);
        }
        if (!sending && (control.busy.load(std::memory_order_acquire) == 0 || now >= drain_until))
            break;
        if (moved || wait == 0)
            continue;

        for (std::size_t i = 0; i < flows.size(); ++i)
            fds[i] = {flows[i]->fd(), static_cast<short>(POLLIN | (flows[i]->wants_write() ? POLLOUT : 0)), 0};
        const timespec ts{0, static_cast<long>(wait)};
        (void)::ppoll(fds.data(), fds.size(), &ts, nullptr);
    }
    if (busy)
        control.busy.fetch_sub(1, std::memory_order_acq_rel);
    for (const auto& f : flows) {
        f->give_up();
        if (f->failed() && result.error.empty())
            result.error = f->failure();
    }
    result.done.store(true, std::memory_order_release);
}

} // namespace idpath::gun
