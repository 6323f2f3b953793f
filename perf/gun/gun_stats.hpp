#pragma once
/// What a run counts. Each worker thread owns a WorkerStats and is its only writer; the
/// reporting thread reads them all (relaxed loads, see base/counter.hpp) into a Snapshot each
/// interval and at the end.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/base/counter.hpp"
#include "perf/gun/histogram.hpp"

namespace idpath::gun {

enum class Stat : std::uint8_t {
    Sent,          // queries handed to the kernel
    Answered,      // matched, complete, valid answers (however many datagrams each)
    Lost,          // no complete answer within the timeout (or by the end of the run)
    Rejected,      // the answer matched by RequestId was malformed or answered something else
    Late,          // an answer to a query already counted lost, or too old to tell
    Duplicate,     // a datagram of an answer already complete, or a chunk received twice
    Wrong,         // a RequestId never sent on that socket, or an answer naming another handle
    Malformed,     // an answer that does not decode (envelope, chunking, message, body)
    Stalled,       // open loop: a query due but not sent: too many in flight, or the sender fell
                   // more than a burst behind (a saturated generator)
    SendErrors,    // the kernel refused a send (other than "try again")
    Unreachable,   // ICMP port unreachable: nothing listens at the server address
    DatagramsOut,
    BytesOut,      // UDP payload (or TCP stream) octets
    DatagramsIn,   // UDP datagrams, or TCP frames
    BytesIn,
    MultiDatagram, // answers that came in more than one datagram
    Values,        // values in successful answers
    Reconnects,    // TCP connections re-established after the server closed one
    Count_
};
inline constexpr std::size_t kStatCount = static_cast<std::size_t>(Stat::Count_);

/// The JSON key and column name of a counter ("sent", "datagrams_in", ...).
std::string_view stat_name(Stat s) noexcept;

/// What is counted per address family in a run with a SERVER of each (an IPv4/IPv6 mix): the
/// outcomes of the queries that went over it, sent = answered + lost + rejected.
enum class FamilyStat : std::uint8_t { Sent, Answered, Lost, Rejected, Count_ };
inline constexpr std::size_t kFamilyStatCount = static_cast<std::size_t>(FamilyStat::Count_);

/// The JSON key of a per-family counter ("sent", ...).
std::string_view family_stat_name(FamilyStat s) noexcept;

constexpr std::size_t family_slot(bool ipv6, FamilyStat s) noexcept
{
    return (ipv6 ? kFamilyStatCount : 0) + static_cast<std::size_t>(s);
}

/// Response codes below this have a counter each (every code defined so far does); others share
/// the last slot.
inline constexpr std::size_t kRcSlots = 4096;

struct WorkerStats {
    std::array<Counter, kStatCount> stat;
    std::array<Counter, kRcSlots + 1> by_rc;
    std::array<Counter, 2 * kFamilyStatCount> by_family; // IPv4's, then IPv6's (mixed runs only)
    SharedHistogram latency; // ns from send to the last datagram of the answer

    void add(Stat s, std::uint64_t n = 1) noexcept { stat[static_cast<std::size_t>(s)].add(n); }
    void add_family(bool ipv6, FamilyStat s, std::uint64_t n = 1) noexcept { by_family[family_slot(ipv6, s)].add(n); }
    void count_rc(std::uint32_t rc) noexcept { by_rc[rc < kRcSlots ? rc : kRcSlots].add(); }
};

/// A plain copy: the sum over workers at one moment, or the difference of two such sums.
struct Snapshot {
    std::array<std::uint64_t, kStatCount> stat{};
    std::array<std::uint64_t, kRcSlots + 1> by_rc{};
    std::array<std::uint64_t, 2 * kFamilyStatCount> by_family{};
    Histogram latency;

    std::uint64_t operator[](Stat s) const noexcept { return stat[static_cast<std::size_t>(s)]; }
    std::uint64_t family(bool ipv6, FamilyStat s) const noexcept { return by_family[family_slot(ipv6, s)]; }
    /// Adds one worker's counters.
    void add(const WorkerStats& w) noexcept;
    /// This minus an earlier snapshot of the same workers.
    Snapshot since(const Snapshot& earlier) const noexcept;
};

} // namespace idpath::gun
