#include "perf/gun/gun_stats.hpp"

namespace idpath::gun {

std::string_view stat_name(Stat s) noexcept
{
    switch (s) {
    case Stat::Sent: return "sent";
    case Stat::Answered: return "answered";
    case Stat::Lost: return "lost";
    case Stat::Rejected: return "rejected";
    case Stat::Late: return "late";
    case Stat::Duplicate: return "duplicate";
    case Stat::Wrong: return "wrong";
    case Stat::Malformed: return "malformed";
    case Stat::Stalled: return "stalled";
    case Stat::SendErrors: return "send_errors";
    case Stat::Unreachable: return "unreachable";
    case Stat::DatagramsOut: return "datagrams_out";
    case Stat::BytesOut: return "bytes_out";
    case Stat::DatagramsIn: return "datagrams_in";
    case Stat::BytesIn: return "bytes_in";
    case Stat::MultiDatagram: return "multi_datagram_answers";
    case Stat::Values: return "values";
    case Stat::Reconnects: return "reconnects";
    case Stat::Count_: break;
    }
    return "?";
}

std::string_view family_stat_name(FamilyStat s) noexcept
{
    switch (s) {
    case FamilyStat::Sent: return "sent";
    case FamilyStat::Answered: return "answered";
    case FamilyStat::Lost: return "lost";
    case FamilyStat::Rejected: return "rejected";
    case FamilyStat::Count_: break;
    }
    return "?";
}

void Snapshot::add(const WorkerStats& w) noexcept
{
    for (std::size_t i = 0; i < kStatCount; ++i)
        stat[i] += w.stat[i].get();
    for (std::size_t i = 0; i < by_rc.size(); ++i)
        by_rc[i] += w.by_rc[i].get();
    for (std::size_t i = 0; i < by_family.size(); ++i)
        by_family[i] += w.by_family[i].get();
    w.latency.read_into(latency);
}

Snapshot Snapshot::since(const Snapshot& earlier) const noexcept
{
    Snapshot d;
    for (std::size_t i = 0; i < kStatCount; ++i)
        d.stat[i] = stat[i] - earlier.stat[i];
    for (std::size_t i = 0; i < by_rc.size(); ++i)
        d.by_rc[i] = by_rc[i] - earlier.by_rc[i];
    for (std::size_t i = 0; i < by_family.size(); ++i)
        d.by_family[i] = by_family[i] - earlier.by_family[i];
    d.latency = latency.since(earlier.latency);
    return d;
}

} // namespace idpath::gun
