#include "perf/gun/report.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "dataplane/wire/constants.hpp"
#include "perf/gun/family.hpp"

namespace idpath::gun {
namespace {

using nlohmann::ordered_json;

struct Quantile {
    const char* name;
    double q;
};
constexpr Quantile kQuantiles[] = {{"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99.9", 0.999}};

double us(std::uint64_t ns)
{
    return std::round(static_cast<double>(ns) / 100.0) / 10.0; // 0.1 us resolution
}

double per_second(std::uint64_t n, double seconds)
{
    return seconds > 0 ? std::round(static_cast<double>(n) / seconds) : 0;
}

ordered_json latency_json(const Histogram& h)
{
    ordered_json j;
    for (const auto& q : kQuantiles)
        j[q.name] = us(h.percentile(q.q));
    j["max"] = us(h.max());
    j["mean"] = us(static_cast<std::uint64_t>(h.mean()));
    return j;
}

ordered_json counters_json(const Snapshot& s)
{
    ordered_json j;
    for (std::size_t i = 0; i < kStatCount; ++i)
        j[std::string(stat_name(static_cast<Stat>(i)))] = s.stat[i];
    ordered_json rc = ordered_json::object();
    for (std::size_t slot = 0; slot < s.by_rc.size(); ++slot)
        if (s.by_rc[slot])
            rc[rc_label(slot)] = s.by_rc[slot];
    j["response_codes"] = std::move(rc);
    return j;
}

/// {"ipv4": {"sent", "answered", "lost", "rejected", "qps"}, "ipv6": {...}}: a mixed run's split.
ordered_json families_json(const Snapshot& s, double seconds)
{
    ordered_json j;
    for (const bool v6 : {false, true}) {
        ordered_json f;
        for (std::size_t i = 0; i < kFamilyStatCount; ++i)
            f[std::string(family_stat_name(static_cast<FamilyStat>(i)))] = s.family(v6, static_cast<FamilyStat>(i));
        f["qps"] = per_second(s.family(v6, FamilyStat::Answered), seconds);
        j[v6 ? "ipv6" : "ipv4"] = std::move(f);
    }
    return j;
}

__attribute__((format(printf, 1, 2))) std::string format(const char* fmt, ...)
{
    char buf[512];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    return buf;
}

double percent(std::uint64_t part, std::uint64_t whole)
{
    return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0;
}

} // namespace

std::string rc_label(std::size_t slot)
{
    if (slot >= kRcSlots)
        return "other";
    if (const char* name = wire::response_code_name(static_cast<std::uint32_t>(slot)))
        return name;
    return "RC_" + std::to_string(slot);
}

void Reporter::start()
{
    if (json_) {
        ordered_json j;
        j["type"] = "start";
        j["server"] = info_.server;
        j["transport"] = info_.transport;
        j["mode"] = info_.open_loop ? "open" : "closed";
        if (info_.open_loop)
            j["rate"] = info_.rate;
        else
            j["window"] = info_.window;
        j["sockets"] = info_.sockets;
        j["threads"] = info_.threads;
        j["identifiers"] = info_.identifiers;
        j["miss_ratio"] = info_.miss_ratio;
        j["zipf"] = info_.zipf;
        if (info_.count)
            j["count"] = info_.count;
        j["duration_s"] = info_.duration;
        j["timeout_ms"] = info_.timeout_ms;
        j["seed"] = info_.seed;
        out_ << j.dump() << '\n' << std::flush;
        return;
    }
    const std::string mode = info_.open_loop ? format("open loop %.0f q/s", info_.rate)
                                             : format("closed loop, window %u per socket", info_.window);
    out_ << "idpath-gun: " << info_.server << ' ' << info_.transport << ", " << mode << ", " << info_.sockets
         << (info_.sockets == 1 ? " socket, " : " sockets, ") << info_.threads
         << (info_.threads == 1 ? " thread\n" : " threads\n");
    out_ << format("  %llu identifiers, miss ratio %.3f, zipf %.2f, seed %llu, timeout %u ms, ",
                   static_cast<unsigned long long>(info_.identifiers), info_.miss_ratio, info_.zipf,
                   static_cast<unsigned long long>(info_.seed), info_.timeout_ms);
    if (info_.count)
        out_ << format("count %llu, ", static_cast<unsigned long long>(info_.count));
    out_ << format("at most %.1f s\n", info_.duration) << std::flush;
}

void Reporter::interval(double elapsed_s, double length_s, const Snapshot& d)
{
    if (json_) {
        ordered_json j;
        j["type"] = "interval";
        j["time_s"] = std::round(elapsed_s * 1000) / 1000;
        j["interval_s"] = std::round(length_s * 1000) / 1000;
        j["qps"] = per_second(d[Stat::Answered], length_s);
        j["sent_qps"] = per_second(d[Stat::Sent], length_s);
        j.update(counters_json(d));
        j["latency_us"] = latency_json(d.latency);
        if (info_.mixed)
            j["families"] = families_json(d, length_s);
        out_ << j.dump() << '\n' << std::flush;
        return;
    }
    if (!header_printed_) {
        out_ << format("%8s %10s %10s %8s %8s %11s %9s %9s %9s\n", "time", "sent", "answered", "lost", "other",
                       "answers/s", "p50 us", "p99 us", "max us");
        header_printed_ = true;
    }
    // "other": rejected, late, duplicate, wrong and malformed together; the summary splits them.
    const std::uint64_t other = d[Stat::Rejected] + d[Stat::Late] + d[Stat::Duplicate] + d[Stat::Wrong] +
                                d[Stat::Malformed];
    out_ << format("%7.2fs %10llu %10llu %8llu %8llu %11.0f %9.1f %9.1f %9.1f\n", elapsed_s,
                   static_cast<unsigned long long>(d[Stat::Sent]), static_cast<unsigned long long>(d[Stat::Answered]),
                   static_cast<unsigned long long>(d[Stat::Lost]), static_cast<unsigned long long>(other),
                   per_second(d[Stat::Answered], length_s), us(d.latency.percentile(0.5)),
                   us(d.latency.percentile(0.99)), us(d.latency.max()))
         << std::flush;
}

void Reporter::summary(double send_s, double wall_s, const Snapshot& t)
{
    const std::uint64_t sent = t[Stat::Sent];
    if (json_) {
        ordered_json j;
        j["type"] = "summary";
        j["server"] = info_.server;
        j["transport"] = info_.transport;
        j["mode"] = info_.open_loop ? "open" : "closed";
        j["send_s"] = std::round(send_s * 1000) / 1000;
        j["wall_s"] = std::round(wall_s * 1000) / 1000;
        j["qps"] = per_second(t[Stat::Answered], send_s);
        j["sent_qps"] = per_second(sent, send_s);
        j["loss_ratio"] = sent ? static_cast<double>(t[Stat::Lost]) / static_cast<double>(sent) : 0.0;
        j.update(counters_json(t));
        j["latency_us"] = latency_json(t.latency);
        if (info_.mixed)
            j["families"] = families_json(t, send_s);
        out_ << j.dump() << '\n' << std::flush;
        return;
    }
    const auto n = [&](Stat s) { return static_cast<unsigned long long>(t[s]); };
    out_ << "summary\n";
    out_ << format("  sent       %12llu queries in %.2f s (%.0f /s)\n", n(Stat::Sent), send_s,
                   per_second(sent, send_s));
    out_ << format("  answered   %12llu (%.3f %%), %.0f answers/s\n", n(Stat::Answered),
                   percent(t[Stat::Answered], sent), per_second(t[Stat::Answered], send_s));
    out_ << format("  lost       %12llu (%.3f %%), timeout %u ms\n", n(Stat::Lost), percent(t[Stat::Lost], sent),
                   info_.timeout_ms);
    if (info_.mixed) {
        for (const bool v6 : {false, true}) {
            const auto f = [&](FamilyStat s) { return static_cast<unsigned long long>(t.family(v6, s)); };
            out_ << format("  %-10s sent %llu, answered %llu (%.3f %%), lost %llu, rejected %llu; %.0f answers/s\n",
                           family_name(v6), f(FamilyStat::Sent), f(FamilyStat::Answered),
                           percent(t.family(v6, FamilyStat::Answered), t.family(v6, FamilyStat::Sent)),
                           f(FamilyStat::Lost), f(FamilyStat::Rejected),
                           per_second(t.family(v6, FamilyStat::Answered), send_s));
        }
    }
    out_ << format("  rejected %llu, late %llu, duplicate %llu, wrong %llu, malformed %llu\n", n(Stat::Rejected),
                   n(Stat::Late), n(Stat::Duplicate), n(Stat::Wrong), n(Stat::Malformed));
    out_ << format("  stalled %llu, unreachable %llu, send errors %llu, reconnects %llu\n", n(Stat::Stalled),
                   n(Stat::Unreachable), n(Stat::SendErrors), n(Stat::Reconnects));
    out_ << format("  datagrams  out %llu, in %llu; multi-datagram answers %llu; values %llu\n",
                   n(Stat::DatagramsOut), n(Stat::DatagramsIn), n(Stat::MultiDatagram), n(Stat::Values));
    out_ << format("  bytes      out %llu, in %llu\n", n(Stat::BytesOut), n(Stat::BytesIn));
    out_ << "  response codes\n";
    for (std::size_t slot = 0; slot < t.by_rc.size(); ++slot)
        if (t.by_rc[slot])
            out_ << format("    %-28s %12llu %8.3f %%\n", rc_label(slot).c_str(),
                           static_cast<unsigned long long>(t.by_rc[slot]), percent(t.by_rc[slot], t[Stat::Answered]));
    const Histogram& h = t.latency;
    out_ << format("  latency us p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n",
                   us(h.percentile(0.5)), us(h.percentile(0.9)), us(h.percentile(0.99)), us(h.percentile(0.999)),
                   us(h.max()), us(static_cast<std::uint64_t>(h.mean())));
    out_ << format("  wall       %.2f s (sending, then up to one timeout for the last answers)\n", wall_s)
         << std::flush;
}

} // namespace idpath::gun
