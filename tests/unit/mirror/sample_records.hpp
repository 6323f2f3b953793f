#pragma once
// Sample log records for the mirror's tests and benchmarks (perf/micro includes it too): the
// fields every sample query sets alike are set here once; each caller overrides what its
// assertions or its traffic mix depend on.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "controlplane/mirror/core/batch.hpp"

namespace idpath::mirror::testing {

/// a.b.c.d in the v4-mapped form records keep IPv4 addresses in.
inline void set_ipv4(std::uint8_t (&addr)[16], std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
{
    const std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
    std::memcpy(addr, mapped, sizeof mapped);
}

/// A resolution (opcode 1) over UDP and IPv4, allowed and answered (response code 1) in one
/// datagram, from 192.0.2.1:40000 to 198.51.100.1:2641, for `handle`.
inline querylog::Record query_record(std::uint16_t source, std::uint64_t seq, std::uint64_t time_ns,
                                     std::string_view handle)
{
    querylog::Record r{};
    r.source = source;
    r.seq = seq;
    r.time_ns = time_ns;
    r.kind = querylog::Kind::Query;
    r.family = 4;
    r.transport = querylog::Transport::Udp;
    r.action = querylog::Action::Allowed;
    r.opcode = 1;
    r.response_code = 1;
    r.datagrams = 1;
    r.client_port = 40000;
    r.server_port = 2641;
    set_ipv4(r.client, 192, 0, 2, 1);
    set_ipv4(r.server, 198, 51, 100, 1);
    querylog::set_handle(r, reinterpret_cast<const std::uint8_t*>(handle.data()), handle.size());
    return r;
}

inline querylog::Record heartbeat_record(std::uint16_t source, std::uint64_t seq, std::uint64_t time_ns,
                                         std::uint64_t produced, std::uint64_t lost)
{
    querylog::Record r{};
    r.source = source;
    r.seq = seq;
    r.time_ns = time_ns;
    r.kind = querylog::Kind::Heartbeat;
    querylog::set_heartbeat_body(r, {produced, lost});
    return r;
}

inline Batch batch_of(std::uint64_t id, std::vector<querylog::Record> records)
{
    Batch b;
    b.id = id;
    b.records = std::move(records);
    return b;
}

} // namespace idpath::mirror::testing
