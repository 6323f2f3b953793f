#include "controlplane/mirror/core/exporter.hpp"

#include <pthread.h>

#include <algorithm>

namespace idpath::mirror {

Exporter::Exporter(RingSet& rings, EventLog& events,
                   std::vector<std::unique_ptr<SinkRunner>> runners, ExporterOptions options)
    : rings_(rings), events_(events), runners_(std::move(runners)), options_(options)
{
    options_.batch_records = std::max<std::size_t>(1, options_.batch_records);
    for (const auto& e : rings_.entries())
        sources_.push_back(std::make_unique<SourceMetrics>(e.source, e.name));
    sources_.push_back(std::make_unique<SourceMetrics>(kControlSource, "control"));
}

Exporter::~Exporter()
{
    stop(std::chrono::milliseconds(0));
}

void Exporter::start()
{
    if (started_)
        return;
    started_ = true;
    for (auto& r : runners_)
        r->start();
    thread_ = std::thread([this] { run(); });
    ::pthread_setname_np(thread_.native_handle(), "mirror-export");
}

void Exporter::stop(std::chrono::milliseconds flush_timeout)
{
    if (!started_ || stopped_)
        return;
    stopped_ = true;
    stop_.store(true, std::memory_order_release);
    thread_.join();
    const auto deadline = std::chrono::steady_clock::now() + flush_timeout;
    for (auto& r : runners_)
        r->request_stop(deadline);
    for (auto& r : runners_)
        r->join();
}

void Exporter::run()
{
    while (!stop_.load(std::memory_order_acquire)) {
        const bool got = drain_pass();
        if (!current_.records.empty() || !current_.events.empty())
            if (std::chrono::steady_clock::now() - current_since_ >= options_.batch_interval)
                cut();
        if (!got)
            std::this_thread::sleep_for(options_.idle_sleep);
    }
    // The serving threads have stopped: what the rings hold now is all there will be. Bounded
    // all the same (a full ring set is drained well within it), should one still be producing.
    std::size_t capacity = 0;
    for (const auto& e : rings_.entries())
        capacity += e.ring.capacity();
    for (std::size_t pass = 0; pass <= capacity / options_.batch_records + 2 && drain_pass(); ++pass) {
    }
    cut();
}

bool Exporter::drain_pass()
{
    bool got = false;
    auto& entries = rings_.entries();
    std::size_t i = 0;
    for (auto& e : entries) {
        SourceMetrics& m = *sources_[i++];
        // At most a batch's worth per ring per pass, so one busy ring cannot starve the others.
        std::size_t budget = options_.batch_records;
        while (budget > 0) {
            auto readable = e.ring.peek();
            if (readable.size() == 0)
                break;
            got = true;
            if (current_.size() == 0)
                current_since_ = std::chrono::steady_clock::now();
            const std::size_t room = options_.batch_records - current_.size();
            std::size_t take = std::min({readable.size(), room, budget});
            std::size_t taken = 0;
            for (auto span : {readable.first, readable.second}) {
                const std::size_t n = std::min(span.size(), take - taken);
                for (std::size_t k = 0; k < n; ++k)
                    note_record(m, span[k]);
                current_.records.insert(current_.records.end(), span.begin(), span.begin() + n);
                taken += n;
            }
            e.ring.release(taken);
            budget -= taken;
            metrics_.records.fetch_add(taken, std::memory_order_relaxed);
            if (current_.size() >= options_.batch_records)
                cut();
        }
    }
    SourceMetrics& control = *sources_.back();
    for (;;) {
        const std::size_t room = options_.batch_records - current_.size();
        const std::size_t before = current_.events.size();
        if (current_.size() == 0)
            current_since_ = std::chrono::steady_clock::now();
        const std::size_t n = events_.drain(current_.events, room);
        if (n == 0)
            break;
        got = true;
        for (std::size_t k = before; k < current_.events.size(); ++k) {
            control.received.fetch_add(1, std::memory_order_relaxed);
            note_seq(control, current_.events[k].seq);
        }
        metrics_.events.fetch_add(n, std::memory_order_relaxed);
        if (current_.size() >= options_.batch_records)
            cut();
        else
            break;
    }
    return got;
}

void Exporter::note_seq(SourceMetrics& m, std::uint64_t seq)
{
    const std::uint64_t last = m.last_seq.load(std::memory_order_relaxed);
    if (seq > last + 1)
        m.gaps.fetch_add(seq - last - 1, std::memory_order_relaxed);
    if (seq > last)
        m.last_seq.store(seq, std::memory_order_relaxed);
}

void Exporter::note_record(SourceMetrics& m, const querylog::Record& r)
{
    m.received.fetch_add(1, std::memory_order_relaxed);
    note_seq(m, r.seq);
    if (r.kind == querylog::Kind::Heartbeat) {
        const auto body = querylog::heartbeat_body(r);
        m.heartbeats.fetch_add(1, std::memory_order_relaxed);
        m.heartbeat_produced.store(body.produced, std::memory_order_relaxed);
        m.heartbeat_lost.store(body.lost, std::memory_order_relaxed);
        m.gaps_at_heartbeat.store(m.gaps.load(std::memory_order_relaxed),
                                  std::memory_order_relaxed);
        metrics_.heartbeats.fetch_add(1, std::memory_order_relaxed);
    }
}

void Exporter::cut()
{
    if (current_.size() == 0)
        return;
    current_.id = next_batch_id_++;
    auto batch = std::make_shared<const Batch>(std::move(current_));
    current_ = Batch{};
    current_.records.reserve(std::min<std::size_t>(options_.batch_records, 1u << 16));
    metrics_.batches.fetch_add(1, std::memory_order_relaxed);
    for (auto& r : runners_)
        r->offer(batch);
}

} // namespace idpath::mirror
