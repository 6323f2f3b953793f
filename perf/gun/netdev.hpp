#pragma once
/// What the AF_XDP port needs to know about its interface and next hop, asked of the kernel once
/// at setup: index, MAC, addresses and queue count of the interface; the server's MAC from the
/// neighbour table (provoking ARP/NDP first when there is no entry).
/// Thread-safety: setup only; blocking calls.

#include <cstdint>
#include <optional>
#include <string>

#include "dataplane/base/result.hpp"
#include "dataplane/packet/packet.hpp"

namespace idpath::gun {

struct InterfaceInfo {
    int ifindex = 0;
    packet::MacAddress mac{};
    std::optional<packet::IpAddress> ipv4; // IPv4-mapped; the first one
    std::optional<packet::IpAddress> ipv6; // the first global one (link-local if none)
    std::uint32_t queues = 1;              // combined or RX channels, whichever is more
};

/// Reads `name` in the caller's network namespace. Errors name the interface and the call.
Result<InterfaceInfo, std::string> inspect_interface(const std::string& name);

/// The MAC the kernel would send `address` to over `ifindex`. Without a usable entry, sends one
/// UDP datagram to the discard port (9) of `address` through the interface, which makes the
/// kernel resolve it (the server answers ARP/NDP), and waits up to `wait_ms` for the entry.
Result<packet::MacAddress, std::string> resolve_neighbour(int ifindex, const std::string& ifname,
                                                          const packet::IpAddress& address, bool ipv6,
                                                          std::uint32_t wait_ms);

} // namespace idpath::gun
