#pragma once
// Records and events for the syslog sink's tests.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>

#include "controlplane/mirror/core/batch.hpp"

namespace idpath::mirror::testing {

/// 2025-11-23T02:40:36Z in nanoseconds.
inline constexpr std::uint64_t kBaseNs = 1763865636ull * 1'000'000'000ull;

inline querylog::Record query(std::uint16_t source, std::uint64_t seq, const std::string& handle)
{
    querylog::Record r{};
    r.seq = seq;
    r.time_ns = kBaseNs + seq * 1'234'567'891ull; // microseconds vary, nanoseconds are cut
    r.latency_ns = 1500 + static_cast<std::uint32_t>(seq % 1000);
    r.source = source;
    r.kind = querylog::Kind::Query;
    r.family = 4;
    r.transport = seq % 2 ? querylog::Transport::Udp : querylog::Transport::Tcp;
    r.action = querylog::Action::Allowed;
    r.opcode = 1;
    r.response_code = 1;
    r.request_bytes = 80;
    r.response_bytes = 300;
    r.values = 2;
    r.datagrams = 1;
    r.client_port = static_cast<std::uint16_t>(40000 + seq % 1000);
    r.server_port = 2641;
    const std::uint8_t client[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, static_cast<std::uint8_t>(seq)};
    const std::uint8_t server[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1};
    std::copy(std::begin(client), std::end(client), r.client);
    std::copy(std::begin(server), std::end(server), r.server);
    querylog::set_handle(r, reinterpret_cast<const std::uint8_t*>(handle.data()), handle.size());
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
