#include "controlplane/app/recursion_service.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "controlplane/app/recursive_reply.hpp"
#include "controlplane/log/log.hpp"
#include "dataplane/querylog/clock.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::app {

namespace {

// An idle resolver thread looks at the rings again after a sleep that starts short and doubles
// up to the long one: what a miss pays on top of its upstream round trips. Misses come in runs
// (a client resolving several identifiers, a page of them), so one that follows others closely
// waits about the short sleep; an idle node still wakes only every 500 µs. The serving threads
// never wake a resolver (no syscall per packet), so this is the whole mechanism.
constexpr auto kIdleSleepFirst = std::chrono::microseconds(100);
constexpr auto kIdleSleepLast = std::chrono::microseconds(500);
// Inserts wait this long for company, so one grace period covers a burst of misses.
constexpr auto kInsertBatchWait = std::chrono::milliseconds(5);
constexpr auto kSweepInterval = std::chrono::seconds(1);

std::uint64_t unix_now() noexcept
{
    return static_cast<std::uint64_t>(std::time(nullptr));
}

void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept
{
    c.fetch_add(n, std::memory_order_relaxed);
}

} // namespace

RecursionService::RecursionService(RecursionServiceOptions options, std::vector<MissChannel*> channels,
                                   resolve::Policy policy, CachePort port)
    : options_(std::move(options)),
      channels_(std::move(channels)),
      port_(std::move(port)),
      engine_(options_.engine),
      policy_(std::make_shared<const resolve::Policy>(std::move(policy)))
{
    for (unsigned i = 0; i < std::max(1u, options_.threads); ++i) {
        const querylog::Target t = i < options_.query_logs.size() ? options_.query_logs[i] : querylog::Target{};
        logs_.push_back(std::make_unique<querylog::QueryLog>(t.ring, t.source, t.heartbeat_ns));
        probes_.push_back(std::make_unique<querylog::Probe>(
            i < options_.probes.size() ? options_.probes[i] : querylog::ProbeTarget{}));
    }
}

const querylog::QueryLogStats* RecursionService::query_log_stats(std::size_t i) const
{
    return i < logs_.size() ? &logs_[i]->stats() : nullptr;
}

const querylog::ProbeStats* RecursionService::probe_stats(std::size_t i) const
{
    return i < probes_.size() ? &probes_[i]->stats() : nullptr;
}

RecursionService::~RecursionService()
{
    stop();
}

void RecursionService::start()
{
    stopping_.store(false, std::memory_order_release);
    for (unsigned i = 0; i < std::max(1u, options_.threads); ++i)
        threads_.emplace_back([this, i] {
            pthread_setname_np(pthread_self(), ("idpath-rec" + std::to_string(i)).substr(0, 15).c_str());
            run_resolver(*logs_[i], *probes_[i]);
        });
    maintenance_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "idpath-reccache");
        run_maintenance();
    });
}

void RecursionService::stop()
{
    stopping_.store(true, std::memory_order_release);
    engine_.cancel(); // resolutions in flight give up instead of waiting out their timeouts
    {
        const std::lock_guard lock(pending_mutex_);
        wake_.notify_all();
    }
    for (std::thread& t : threads_)
        if (t.joinable())
            t.join();
    threads_.clear();
    if (maintenance_.joinable())
        maintenance_.join();
}

void RecursionService::set_policy(resolve::Policy policy)
{
    auto next = std::make_shared<const resolve::Policy>(std::move(policy));
    const std::lock_guard lock(policy_mutex_);
    policy_ = std::move(next);
}

/// One resolver thread's side of serve_one(): the reply, then its query-log record and the
/// probe's copies of it.
class RecursionService::Handler final : public MissChannel::Handler {
public:
    Handler(RecursionService& service, querylog::QueryLog& log, querylog::Probe& probe)
        : service_(service), log_(log), probe_(probe), out_(resolve::kReplyBufferSize)
    {
    }

    ByteSpan reply(const Punted& p) override
    {
        outcome_ = {};
        return service_.answer(p.request, out_, outcome_);
    }

    querylog::Probe* probe() override { return probe_.enabled() ? &probe_ : nullptr; }

    void sent(const Punted& p, std::uint32_t datagrams) override
    {
        const std::uint64_t now = log_.enabled() || probe_.enabled() ? querylog::realtime_ns() : 0;
        // The replies it captured left now (a DPDK worker transmits them at its next poll).
        if (probe_.enabled() && p.probed)
            probe_.end_burst(now);
        if (!log_.enabled() || outcome_.opcode == 0)
            return; // logging off, or an unreadable request (the serving thread logged it)
        querylog::Record* r = log_.begin_query(p.rx_ns != 0 ? p.rx_ns : now);
        if (r == nullptr)
            return;
        querylog::fill_query(*r, p.peer, outcome_, datagrams);
        r->action = querylog::Action::Resolved;
        log_.end_burst(now);
    }

private:
    RecursionService& service_;
    querylog::QueryLog& log_;
    querylog::Probe& probe_;
    std::vector<std::uint8_t> out_; // up to 256 KiB, once per thread
    resolve::Outcome outcome_;
};

void RecursionService::run_resolver(querylog::QueryLog& log, querylog::Probe& probe)
{
    Handler handler(*this, log, probe);
    auto idle_sleep = kIdleSleepFirst;
    while (!stopping_.load(std::memory_order_acquire)) {
        bool any = false;
        for (MissChannel* channel : channels_)
            switch (channel->serve_one(handler)) {
            case MissChannel::Served::None: break;
            case MissChannel::Served::Silent: any = true; break;
            case MissChannel::Served::Replied:
                any = true;
                bump(counters_.answered);
                break;
            case MissChannel::Served::SendFailed:
                any = true;
                bump(counters_.send_errors);
                break;
            }
        if (any) {
            idle_sleep = kIdleSleepFirst;
            continue;
        }
        if (log.enabled())
            log.poll_idle(querylog::realtime_ns());
        std::this_thread::sleep_for(idle_sleep);
        idle_sleep = std::min(idle_sleep * 2, kIdleSleepLast);
    }
}

ByteSpan RecursionService::answer(ByteSpan request, std::vector<std::uint8_t>& out, resolve::Outcome& reply)
{
    bump(counters_.resolved);
    const auto handle = requested_handle(request);
    if (!handle) {
        bump(counters_.unreadable);
        return {};
    }
    const recursion::Outcome outcome = engine_.resolve(*handle, asks_authoritative(request));
    if (outcome.failed())
        bump(counters_.failed);

    std::shared_ptr<const resolve::Policy> policy;
    {
        const std::lock_guard lock(policy_mutex_);
        policy = policy_;
    }
    reply = recursive_reply(request, outcome, *policy, static_cast<std::uint32_t>(unix_now()), out);
    reply.request_bytes = static_cast<std::uint32_t>(request.size());

    // Positive answers go into the serving table (negative ones stay in the engine's cache).
    if (!outcome.failed() && outcome.response_code == static_cast<std::uint32_t>(wire::ResponseCode::Success) &&
        outcome.value_count > 0 && outcome.ttl > 0) {
        CacheEntry e{table_key(*handle), outcome.value_count, outcome.values, unix_now() + outcome.ttl};
        const std::lock_guard lock(pending_mutex_);
        pending_.push_back(std::move(e));
        wake_.notify_one();
    }
    if (!reply.answered() || reply.size == 0)
        return {};
    return {out.data(), reply.size};
}

void RecursionService::run_maintenance()
{
    auto next_sweep = std::chrono::steady_clock::now() + kSweepInterval;
    std::unique_lock lock(pending_mutex_);
    while (!stopping_.load(std::memory_order_acquire)) {
        wake_.wait_until(lock, next_sweep, [&] {
            return stopping_.load(std::memory_order_acquire) || !pending_.empty();
        });
        if (stopping_.load(std::memory_order_acquire))
            break;
        if (!pending_.empty()) {
            lock.unlock();
            std::this_thread::sleep_for(kInsertBatchWait);
            lock.lock();
            std::vector<CacheEntry> batch;
            batch.swap(pending_);
            std::vector<CacheEntry> fresh;
            for (CacheEntry& e : batch) {
                // A key in the book again is re-inserted: a reload dropped it with the old table
                // (the daemon forgets what it inserted then, so a stale book entry erases nothing).
                if (!expiry_.contains(e.key) && expiry_.size() + fresh.size() >= options_.max_cached) {
                    bump(counters_.cache_full);
                    continue;
                }
                fresh.push_back(std::move(e));
            }
            if (!fresh.empty()) {
                lock.unlock();
                const std::vector<std::string> inserted = port_.insert(fresh);
                lock.lock();
                std::size_t at = 0;
                for (const std::string& key : inserted) {
                    while (at < fresh.size() && fresh[at].key != key)
                        ++at;
                    if (at < fresh.size())
                        expiry_.add(key, fresh[at].expires);
                }
                bump(counters_.cached, inserted.size());
                counters_.in_table.store(expiry_.size(), std::memory_order_relaxed);
            }
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_sweep) {
            next_sweep = now + kSweepInterval;
            const std::vector<std::string> expired = expiry_.take_expired(unix_now());
            if (!expired.empty()) {
                lock.unlock();
                const std::size_t erased = port_.erase(expired);
                lock.lock();
                bump(counters_.expired, erased);
                counters_.in_table.store(expiry_.size(), std::memory_order_relaxed);
            }
        }
    }
}

std::string RecursionService::stats_json() const
{
    const auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
    nlohmann::json j;
    j["engine"] = nlohmann::json::parse(engine_.counters_json());
    j["engine"]["answer_cache_entries"] = const_cast<recursion::Recursor&>(engine_).answers().size();
    j["resolved"] = get(counters_.resolved);
    j["answered"] = get(counters_.answered);
    j["send_errors"] = get(counters_.send_errors);
    j["unreadable"] = get(counters_.unreadable);
    j["failed"] = get(counters_.failed);
    j["cached"] = get(counters_.cached);
    j["expired"] = get(counters_.expired);
    j["cache_full"] = get(counters_.cache_full);
    j["in_table"] = get(counters_.in_table);
    j["threads"] = std::max(1u, options_.threads);
    return j.dump();
}

} // namespace idpath::app
