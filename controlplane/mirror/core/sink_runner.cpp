#include "controlplane/mirror/core/sink_runner.hpp"

#include <pthread.h>

#include <algorithm>

namespace idpath::mirror {

const char* to_string(SinkState s) noexcept
{
    switch (s) {
    case SinkState::Up: return "up";
    case SinkState::Down: return "down";
    case SinkState::Backoff: return "backoff";
    }
    return "?";
}

const char* to_string(DropReason r) noexcept
{
    switch (r) {
    case DropReason::SpoolFull: return "spool_full";
    case DropReason::SpoolError: return "spool_error";
    case DropReason::NoSpool: return "no_spool";
    case DropReason::QueueFull: return "queue_full";
    }
    return "?";
}

std::uint64_t SinkMetrics::lag_ms(std::uint64_t now_ns) const noexcept
{
    const std::uint64_t t = oldest_pending_ns.load(std::memory_order_relaxed);
    return t == 0 || now_ns <= t ? 0 : (now_ns - t) / 1'000'000;
}

SinkRunner::SinkRunner(std::unique_ptr<Sink> sink, std::unique_ptr<Spool> spool, EventLog* events,
                       SinkRunnerOptions options)
    : sink_(std::move(sink)), spool_(std::move(spool)),
      spool_max_bytes_(spool_ ? spool_->max_bytes() : 0), events_(events),
      options_(std::move(options))
{
    if (options_.name.empty())
        options_.name = sink_->kind();
    options_.queue_batches = std::max<std::size_t>(1, options_.queue_batches);
    options_.tick = std::clamp(options_.tick, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
    // Any thread may hand batches back (a transport's delivery-report thread); the runner's
    // thread spools them.
    sink_->undelivered = [this](Batch&& b) {
        {
            std::lock_guard lock(returned_mutex_);
            returned_.push_back(std::move(b));
        }
        std::lock_guard lock(mutex_);
        wake_pending_ = true;
        wake_.notify_one();
    };
    std::lock_guard lock(mutex_);
    publish_spool_locked();
}

SinkRunner::~SinkRunner()
{
    if (thread_.joinable()) {
        request_stop(Clock::now());
        join();
    }
    // A sink that hands batches back as it closes: they are spooled, not lost unseen; so are
    // batches offered to a runner that never started.
    sink_.reset();
    absorb_returned();
    std::lock_guard lock(mutex_);
    if (spool_) {
        spool_queue_locked();
        spool_->close();
    } else {
        for (const auto& b : queue_)
            drop_locked(*b, DropReason::NoSpool);
        queue_.clear();
    }
}

void SinkRunner::start()
{
    thread_ = std::thread([this] { run(); });
    const std::string thread_name = ("mirror-" + options_.name).substr(0, 15);
    ::pthread_setname_np(thread_.native_handle(), thread_name.c_str());
}

void SinkRunner::request_stop(Clock::time_point deadline)
{
    std::lock_guard lock(mutex_);
    if (!stop_)
        deadline_ = deadline;
    stop_ = true;
    wake_.notify_one();
}

void SinkRunner::join()
{
    if (thread_.joinable())
        thread_.join();
}

std::string SinkRunner::last_error() const
{
    std::lock_guard lock(mutex_);
    return last_error_;
}

void SinkRunner::offer(std::shared_ptr<const Batch> batch)
{
    std::lock_guard lock(mutex_);
    if (spool_) {
        // Behind anything spooled: the spool first takes what the queue holds (older), so the
        // spool stays in order.
        if (!spool_->empty() || queue_.size() >= options_.queue_batches) {
            spool_queue_locked();
            spool_locked(*batch, false);
        } else {
            queue_.push_back(std::move(batch));
        }
    } else if (queue_.size() >= options_.queue_batches) {
        const bool up = metrics_.state.load(std::memory_order_relaxed) == SinkState::Up;
        drop_locked(*batch, up ? DropReason::QueueFull : DropReason::NoSpool);
    } else {
        queue_.push_back(std::move(batch));
    }
    metrics_.queue_batches.store(queue_.size(), std::memory_order_relaxed);
    wake_pending_ = true;
    wake_.notify_one();
}

void SinkRunner::run()
{
    auto next_tick = Clock::now();
    for (;;) {
        auto now = Clock::now();
        if (now >= next_tick) {
            sink_->tick();
            next_tick = now + options_.tick;
        }
        absorb_returned();
        {
            std::lock_guard lock(mutex_);
            if (stop_)
                break;
        }
        const bool worked = step(now);
        update_lag();
        if (worked)
            continue;
        std::unique_lock lock(mutex_);
        auto until = next_tick;
        if (retry_at_ > now && retry_at_ < until)
            until = retry_at_;
        wake_.wait_until(lock, until, [this] { return stop_ || wake_pending_; });
        wake_pending_ = false;
    }
    Clock::time_point deadline;
    {
        std::lock_guard lock(mutex_);
        deadline = deadline_;
    }
    finish(deadline);
}

bool SinkRunner::step(Clock::time_point now)
{
    if (now < retry_at_ || !sink_->ready()) {
        if (now >= retry_at_)
            set_state(SinkState::Backoff, "sink not ready");
        std::lock_guard lock(mutex_);
        if (spool_)
            spool_queue_locked(); // the queue is for a sink that takes batches now
        return false;
    }
    std::shared_ptr<const Batch> live;
    {
        std::unique_lock lock(mutex_);
        if (spool_ && !spool_->empty()) {
            const Batch* front = spool_->front(); // replayed already set
            publish_spool_locked();
            if (front != nullptr) {
                Batch copy = *front;
                lock.unlock();
                if (!deliver(copy, true))
                    return true; // stays at the spool's front
                lock.lock();
                spool_->pop();
                publish_spool_locked();
                return true;
            }
        }
        if (queue_.empty())
            return false;
        live = std::move(queue_.front());
        queue_.pop_front();
        metrics_.queue_batches.store(queue_.size(), std::memory_order_relaxed);
    }
    if (!deliver(*live, false)) {
        std::lock_guard lock(mutex_);
        if (spool_)
            spool_locked(*live, true); // older than anything the exporter spooled meanwhile
        else
            drop_locked(*live, DropReason::NoSpool);
    }
    return true;
}

bool SinkRunner::deliver(const Batch& b, bool replay)
{
    // By the order invariant, the batch in delivery is the oldest not delivered.
    metrics_.oldest_pending_ns.store(oldest_time_ns(b), std::memory_order_relaxed);
    auto r = sink_->deliver(b);
    if (!r) {
        metrics_.delivery_failures.fetch_add(1, std::memory_order_relaxed);
        fail(r.error(), Clock::now());
        return false;
    }
    metrics_.sent.add(b);
    if (replay)
        metrics_.replayed.add(b);
    retry_delay_ = std::chrono::milliseconds(0);
    set_state(SinkState::Up, "");
    return true;
}

void SinkRunner::fail(const std::string& why, Clock::time_point now)
{
    retry_delay_ = retry_delay_.count() == 0 ? options_.retry_min
                                             : std::min(retry_delay_ * 2, options_.retry_max);
    retry_at_ = now + retry_delay_;
    set_state(SinkState::Down, why);
}

void SinkRunner::set_state(SinkState s, const std::string& why)
{
    const SinkState was = metrics_.state.exchange(s, std::memory_order_relaxed);
    // Every failure's text (it may change while down); "not ready" once per spell.
    if (s != SinkState::Up && !why.empty() && (was != s || s == SinkState::Down)) {
        std::lock_guard lock(mutex_);
        last_error_ = why;
    }
    if (was == s || events_ == nullptr)
        return;
    EventFields fields{{"sink", options_.name}, {"state", to_string(s)}, {"was", to_string(was)}};
    if (s != SinkState::Up && !why.empty())
        fields.emplace_back("error", why);
    events_->post("sink.state", std::move(fields));
}

void SinkRunner::absorb_returned()
{
    std::vector<Batch> got;
    {
        std::lock_guard lock(returned_mutex_);
        got.swap(returned_);
    }
    if (got.empty())
        return;
    std::lock_guard lock(mutex_);
    // Each is older than everything spooled (nothing newer was delivered while the spool held
    // anything), so they go to its front, the first returned first.
    for (auto it = got.rbegin(); it != got.rend(); ++it) {
        metrics_.undelivered.add(*it);
        if (spool_)
            spool_locked(*it, true);
        else
            drop_locked(*it, DropReason::NoSpool);
    }
}

void SinkRunner::spool_locked(const Batch& b, bool front)
{
    if (auto r = front ? spool_->push_front(b) : spool_->push_back(b); !r) {
        last_error_ = r.error().text;
        drop_locked(b, r.error().kind == SpoolError::Kind::Full ? DropReason::SpoolFull
                                                                : DropReason::SpoolError);
    } else {
        metrics_.spooled.add(b);
    }
    publish_spool_locked();
}

void SinkRunner::spool_queue_locked()
{
    while (!queue_.empty()) {
        spool_locked(*queue_.front(), false);
        queue_.pop_front();
    }
    metrics_.queue_batches.store(0, std::memory_order_relaxed);
}

void SinkRunner::drop_locked(const Batch& b, DropReason r)
{
    metrics_.dropped[static_cast<std::size_t>(r)].add(b);
}

void SinkRunner::publish_spool_locked()
{
    if (!spool_)
        return;
    metrics_.spool_bytes.store(spool_->bytes(), std::memory_order_relaxed);
    metrics_.spool_batches.store(spool_->batches(), std::memory_order_relaxed);
    metrics_.spool_records.store(spool_->records(), std::memory_order_relaxed);
    metrics_.spool_corrupt_segments.store(spool_->corrupt_segments(), std::memory_order_relaxed);
    metrics_.spool_corrupt_bytes.store(spool_->corrupt_bytes(), std::memory_order_relaxed);
}

void SinkRunner::update_lag()
{
    std::uint64_t t = 0;
    {
        std::lock_guard lock(mutex_);
        if (spool_ && !spool_->empty())
            t = spool_->front_time_ns();
        else if (!queue_.empty())
            t = oldest_time_ns(*queue_.front());
    }
    metrics_.oldest_pending_ns.store(t, std::memory_order_relaxed);
}

void SinkRunner::finish(Clock::time_point deadline)
{
    // Live batches still queued go out while the sink takes them and time is left.
    while (Clock::now() < deadline && Clock::now() >= retry_at_) {
        absorb_returned();
        std::shared_ptr<const Batch> live;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty() || (spool_ && !spool_->empty()))
                break;
            if (!sink_->ready())
                break;
            live = std::move(queue_.front());
            queue_.pop_front();
        }
        if (!deliver(*live, false)) {
            std::lock_guard lock(mutex_);
            if (spool_)
                spool_locked(*live, true);
            else
                drop_locked(*live, DropReason::NoSpool);
            break;
        }
    }
    {
        std::lock_guard lock(mutex_);
        if (spool_) {
            spool_queue_locked();
        } else {
            for (const auto& b : queue_)
                drop_locked(*b, DropReason::NoSpool);
            queue_.clear();
            metrics_.queue_batches.store(0, std::memory_order_relaxed);
        }
    }
    const auto left = deadline - Clock::now();
    sink_->flush(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                          std::chrono::milliseconds(0)));
    absorb_returned();
    std::lock_guard lock(mutex_);
    if (spool_) {
        spool_->close();
        publish_spool_locked();
    }
    metrics_.oldest_pending_ns.store(spool_ && !spool_->empty() ? spool_->front_time_ns() : 0,
                                     std::memory_order_relaxed);
}

} // namespace idpath::mirror
