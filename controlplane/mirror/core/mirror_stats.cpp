#include "controlplane/mirror/core/mirror_stats.hpp"

namespace idpath::mirror {

using nlohmann::json;

namespace {

std::uint64_t get(const std::atomic<std::uint64_t>& a)
{
    return a.load(std::memory_order_relaxed);
}

json count_json(const SinkMetrics::Count& c)
{
    return {{"records", get(c.records)}, {"batches", get(c.batches)}};
}

} // namespace

json sink_stats_json(const SinkRunner& runner, std::uint64_t now_ns)
{
    const SinkMetrics& m = runner.metrics();
    json j;
    j["name"] = runner.name();
    j["state"] = to_string(m.state.load(std::memory_order_relaxed));
    j["last_error"] = runner.last_error();
    j["lag_ms"] = m.lag_ms(now_ns);
    j["sent"] = count_json(m.sent);
    j["spooled"] = count_json(m.spooled);
    j["replayed"] = count_json(m.replayed);
    j["undelivered"] = count_json(m.undelivered);
    json dropped = json::object();
    for (std::size_t i = 0; i < kDropReasons; ++i)
        dropped[to_string(static_cast<DropReason>(i))] = count_json(m.dropped[i]);
    j["dropped"] = dropped;
    j["delivery_failures"] = get(m.delivery_failures);
    j["queue"] = {{"batches", get(m.queue_batches)}, {"capacity", runner.queue_capacity()}};
    j["spool"] = {
        {"enabled", runner.has_spool()},
        {"bytes", get(m.spool_bytes)},
        {"max_bytes", runner.spool_max_bytes()},
        {"batches", get(m.spool_batches)},
        {"records", get(m.spool_records)},
        {"corrupt_segments", get(m.spool_corrupt_segments)},
        {"corrupt_bytes", get(m.spool_corrupt_bytes)},
    };
    return j;
}

json mirror_stats_json(const Exporter& exporter)
{
    const ExporterMetrics& x = exporter.metrics();
    json j;
    j["exporter"] = {
        {"records", get(x.records)},
        {"heartbeats", get(x.heartbeats)},
        {"events", get(x.events)},
        {"batches", get(x.batches)},
        {"batch_records", exporter.options().batch_records},
        {"batch_ms", exporter.options().batch_interval.count()},
    };
    const EventLog& ev = exporter.events();
    j["events"] = {{"posted", ev.posted()}, {"lost", ev.lost()}, {"pending", ev.pending()},
                   {"capacity", ev.capacity()}};
    json sources = json::array();
    const auto& entries = exporter.rings().entries();
    std::size_t i = 0;
    for (const auto& s : exporter.sources()) {
        json o;
        o["source"] = s->source;
        o["name"] = s->name;
        if (i < entries.size()) {
            const auto& e = entries[i];
            o["ring_capacity"] = e.ring.capacity();
            if (e.stats != nullptr) {
                o["produced"] = e.stats->produced.get();
                o["lost"] = e.stats->lost.get();
            }
        } else {
            o["produced"] = ev.posted();
            o["lost"] = ev.lost();
        }
        ++i;
        o["received"] = get(s->received);
        o["heartbeats"] = get(s->heartbeats);
        o["gaps"] = get(s->gaps);
        o["last_seq"] = get(s->last_seq);
        o["heartbeat"] = {{"produced", get(s->heartbeat_produced)},
                          {"lost", get(s->heartbeat_lost)},
                          {"gaps_before", get(s->gaps_at_heartbeat)}};
        sources.push_back(std::move(o));
    }
    j["sources"] = std::move(sources);
    json sinks = json::array();
    const std::uint64_t now = realtime_ns();
    for (const auto& r : exporter.runners())
        sinks.push_back(sink_stats_json(*r, now));
    j["sinks"] = std::move(sinks);
    return j;
}

} // namespace idpath::mirror
