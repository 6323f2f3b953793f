#pragma once
/// Fills a query Record (record.hpp) from what a serving thread knows of one request: who asked
/// whom over what (Peer), what the resolver decided (resolve::Outcome) and how much of the
/// answer went back. One function for every transport, so the records of DPDK lcores and of
/// kernel-socket threads cannot drift apart. Pure: no allocation, syscall or exception.

#include <array>
#include <cstdint>

#include "dataplane/querylog/record.hpp"
#include "dataplane/resolve/resolver.hpp"

namespace idpath::querylog {

/// Both ends of a query as the transport saw them: addresses in 16 octets (IPv4 as
/// ::ffff:a.b.c.d), ports in host order.
struct Peer {
    std::array<std::uint8_t, 16> client{};
    std::array<std::uint8_t, 16> server{};
    std::uint16_t client_port = 0;
    std::uint16_t server_port = 0;
    std::uint8_t family = 0; // 4 or 6
    Transport transport = Transport::Udp;
};

/// 4 for an IPv4-mapped address (::ffff:0:0/96), 6 for any other: what a dual-stack socket
/// reports for an IPv4 client.
std::uint8_t family_of(const std::array<std::uint8_t, 16>& address) noexcept;

/// Fills every field of a Query record but those QueryLog::begin_query set (seq, time, source,
/// kind) and QueryLog::end_burst stamps (latency). `datagrams`: of the answer, what the
/// transport was handed (1 over TCP); 0 when nothing was (a silenced request, or an answer the
/// transport could not carry), and then no response octets are recorded either.
void fill_query(Record& r, const Peer& peer, const resolve::Outcome& o,
                std::uint32_t datagrams) noexcept;

/// Sets what was sent (datagrams, response octets), as fill_query does: for a transport that
/// fills the record before it knows (the run loop writes the reply over the request, and so
/// over the handle the record copies) and corrects it when the answer could not be carried.
void set_sent(Record& r, const resolve::Outcome& o, std::uint32_t datagrams) noexcept;

} // namespace idpath::querylog
