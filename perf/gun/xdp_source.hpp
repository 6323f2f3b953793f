#pragma once
/// Which source address and port a query goes out from under --xdp, as a pure function of its
/// RequestId: the port need not remember it, and an answer's destination can be checked against
/// the RequestId it carries (the (source port, RequestId) match of kxdpgun and socket mode).
/// Consecutive RequestIds land far apart in the port range (Fibonacci hashing), so RSS on the
/// server spreads even a closed loop of a few queries over its queues. With several queues, the
/// port also names the queue that sent the query, (port - first) % queues, so an answer that
/// arrives on another queue can be handed to its owner (xdp_inbox.hpp).
/// Thread-safety: pure. Hot path: yes.

#include <cstdint>

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

} // namespace idpath::gun
