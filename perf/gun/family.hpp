#pragma once
/// Which address family a query goes over, in a run with a SERVER of each family (the IPv4/IPv6
/// mix). The socket modes give each socket one family (alternate sockets); the AF_XDP port sends
/// both over every queue and picks each query's family from its RequestId, so neither the port
/// nor the matcher remembers it, and an answer's family can be checked against the RequestId it
/// carries. The matcher uses the same rule to count outcomes per family.
/// Thread-safety: pure. Hot path: yes (one multiply).

#include <cstdint>

namespace idpath::gun {

enum class FamilyMix : std::uint8_t {
    None,        // one SERVER: nothing is counted per family
    Ipv4,        // every query of this flow goes over IPv4
    Ipv6,        // every query of this flow goes over IPv6
    ByRequestId, // half and half: the top bit of the RequestId's Fibonacci hash
};

/// The family of query `request_id` under `mix` (false, IPv4, for None).
inline bool query_is_ipv6(FamilyMix mix, std::uint32_t request_id) noexcept
{
    switch (mix) {
    case FamilyMix::Ipv6: return true;
    case FamilyMix::ByRequestId:
        // The hash xdp_source() spreads ports with: consecutive RequestIds interleave the two
        // families evenly (the golden-ratio sequence), with no tie to the RequestId's parity,
        // the matcher's slot index, or the port.
        return (request_id * 0x9e3779b1u) >> 31;
    case FamilyMix::None:
    case FamilyMix::Ipv4: break;
    }
    return false;
}

/// "IPv4" / "IPv6".
inline const char* family_name(bool ipv6) noexcept
{
    return ipv6 ? "IPv6" : "IPv4";
}

} // namespace idpath::gun
