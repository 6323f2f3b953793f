#pragma once
// Records and events for the syslog sink's tests.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>

#include "controlplane/mirror/core/batch.hpp"
#include "tests/unit/mirror/sample_records.hpp"

namespace idpath::mirror::testing {

/// 2025-11-23T02:40:36Z in nanoseconds.
inline constexpr std::uint64_t kBaseNs = 1763865636ull * 1'000'000'000ull;

inline querylog::Record query(std::uint16_t source, std::uint64_t seq, const std::string& handle)
{
    // microseconds vary, nanoseconds are cut
    querylog::Record r = query_record(source, seq, kBaseNs + seq * 1'234'567'891ull, handle);
    r.latency_ns = 1500 + static_cast<std::uint32_t>(seq % 1000);
    r.transport = seq % 2 ? querylog::Transport::Udp : querylog::Transport::Tcp;
    r.request_bytes = 80;
    r.response_bytes = 300;
    r.values = 2;
    r.client_port = static_cast<std::uint16_t>(40000 + seq % 1000);
    set_ipv4(r.client, 192, 0, 2, static_cast<std::uint8_t>(seq));
    return r;
}

inline querylog::Record query(std::uint16_t source, std::uint64_t seq)
{
    return query(source, seq, "20.500.12345/object-" + std::to_string(seq));
}

inline querylog::Record heartbeat(std::uint16_t source, std::uint64_t seq, std::uint64_t lost)
{
    querylog::Record r{};
    r.seq = seq;
    r.time_ns = kBaseNs + seq * 1000;
    r.source = source;
    r.kind = querylog::Kind::Heartbeat;
    querylog::set_heartbeat_body(r, {seq, lost});
    return r;
}

inline Event event(std::uint64_t seq, std::string category)
{
    Event e;
    e.seq = seq;
    e.time_ns = kBaseNs + 999'999'999ull;
    e.category = std::move(category);
    e.fields = {{"path", "/var/lib/idpath/t \"1\".snap"}, {"records", "12"}};
    return e;
}

} // namespace idpath::mirror::testing
