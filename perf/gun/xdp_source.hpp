#pragma once
/// Which source address and port a query goes out from under --xdp, as a pure function of its
/// RequestId: the port need not remember it, and an answer's destination can be checked against
/// the RequestId it carries (the (source port, RequestId) match of kxdpgun and socket mode).
/// Consecutive RequestIds land far apart in the port range (Fibonacci hashing), so RSS on the
/// server spreads even a closed loop of a few queries over its queues. With several queues, the
/// port also names the queue that sent the query, (port - first) % queues, so an answer that
/// arrives on another queue can be handed to its owner (xdp_inbox.hpp). With a SERVER of each
/// family, the RequestId also picks the family (family.hpp), and each family has its own server,
/// next hop and source addresses (XdpAddressing); the ports are shared.
/// Thread-safety: pure. Hot path: yes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/base/bytes.hpp"
#include "perf/gun/family.hpp"
#include "perf/gun/frame.hpp"
#include "perf/gun/xdp_args.hpp"

namespace idpath::gun {

struct XdpSource {
    packet::IpAddress address{};
    std::uint16_t port = 0;
};

/// `addresses.count` >= 1; 1 <= queues <= ports.size(); queue < queues.
inline XdpSource xdp_source(std::uint32_t request_id, const AddressRange& addresses, PortRange ports,
                            std::uint32_t queues = 1, std::uint32_t queue = 0) noexcept
{
    const std::uint32_t h = request_id * 0x9e3779b1u; // 2^32 / golden ratio: a bijection
    const std::uint32_t n = ports.size() / queues;    // ports per queue
    return {addresses.at(h / n), static_cast<std::uint16_t>(ports.first + (h % n) * queues + queue)};
}

/// The queue whose queries leave from `port`, or `queues` when no queue's do.
inline std::uint32_t xdp_queue_of(std::uint16_t port, PortRange ports, std::uint32_t queues) noexcept
{
    if (port < ports.first)
        return queues;
    const std::uint32_t offset = std::uint32_t{port} - ports.first;
    return offset < ports.size() / queues * queues ? offset % queues : queues;
}

/// One address family's side of an AF_XDP run.
struct XdpPath {
    packet::MacAddress dst_mac{}; // the next hop towards `server`
    AddressRange sources;         // count 0: no SERVER of this family
    packet::IpAddress server{};   // IPv4-mapped for IPv4
    std::uint16_t server_port = 0;
};

/// What every queue's frames share; built once at setup, read by all ports.
struct XdpAddressing {
    packet::MacAddress src_mac{};
    std::array<XdpPath, 2> paths{}; // [0] IPv4, [1] IPv6
    FamilyMix mix = FamilyMix::Ipv4; // Ipv4, Ipv6 (one SERVER) or ByRequestId (one of each)
    PortRange ports;
    std::uint32_t queues = 1; // ports.size() >= queues

    const XdpPath& path(bool ipv6) const noexcept { return paths[ipv6 ? 1 : 0]; }
};

/// Offset of the RequestId in a Handle datagram (envelope: versions, flags, SessionId).
inline constexpr std::size_t kXdpRequestIdOffset = 8;

/// The RequestId a datagram carries, 0 when it is too short to carry one.
inline std::uint32_t xdp_request_id(ByteSpan datagram) noexcept
{
    return datagram.size() >= kXdpRequestIdOffset + 4 ? load_be32(datagram.data() + kXdpRequestIdOffset) : 0;
}

/// The addresses of the frame carrying query `request_id` from `queue`: its family, that
/// family's server and next hop, and the source address and port of xdp_source().
inline FrameAddresses xdp_query_addresses(const XdpAddressing& a, std::uint32_t request_id,
                                          std::uint32_t queue) noexcept
{
    FrameAddresses f;
    f.ipv6 = query_is_ipv6(a.mix, request_id);
    const XdpPath& p = a.path(f.ipv6);
    f.src_mac = a.src_mac;
    f.dst_mac = p.dst_mac;
    f.dst = p.server;
    f.dst_port = p.server_port;
    const XdpSource src = xdp_source(request_id, p.sources, a.ports, a.queues, queue);
    f.src = src.address;
    f.src_port = src.port;
    return f;
}

/// The queue that sent the query an answer frame (status Ok) answers, or `a.queues` when it
/// answers none of ours: not from the server of its family, or not to the family, address and
/// port its RequestId was sent from (an IPv4 answer to a query sent over IPv6 is not an answer).
/// Too short for a RequestId: the receiving queue's (its matcher calls it malformed).
inline std::uint32_t xdp_answer_queue(const XdpAddressing& a, const AnswerFrame& f) noexcept
{
    const XdpPath& p = a.path(f.ipv6);
    if (p.sources.count == 0 || f.src_port != p.server_port ||
        std::memcmp(f.src.data(), p.server.data(), f.src.size()) != 0)
        return a.queues;
    const std::uint32_t q = xdp_queue_of(f.dst_port, a.ports, a.queues);
    if (q == a.queues || f.payload.size() < kXdpRequestIdOffset + 4)
        return q;
    const std::uint32_t id = xdp_request_id(f.payload);
    if (query_is_ipv6(a.mix, id) != f.ipv6)
        return a.queues;
    const XdpSource want = xdp_source(id, p.sources, a.ports, a.queues, q);
    return f.dst_port == want.port && std::memcmp(f.dst.data(), want.address.data(), f.dst.size()) == 0 ? q
                                                                                                     : a.queues;
}

} // namespace idpath::gun
