#pragma once
/// Classifying one received Ethernet frame (DESIGN.md section 3, step 2), with no DPDK: a pure
/// function over the frame's bytes. Every length read from the wire is checked before use, no
/// field is read through a cast struct, and nothing is asserted about packet bytes.
///
/// Layers: Ethernet II with up to two VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8); ARP (RFC 826);
/// IPv4 (RFC 791) with options; IPv6 (RFC 8200) with a bounded extension-header walk; UDP
/// (RFC 768); ICMP echo (RFC 792); ICMPv6 echo (RFC 4443) and Neighbor Solicitation (RFC 4861).
/// Thread-safety: pure functions; PacketStats is single-writer. Hot path: yes; never allocates.

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/packet/checksum.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::packet {

using MacAddress = std::array<std::uint8_t, 6>;
using Ipv4Address = std::array<std::uint8_t, 4>;
/// 16-octet address; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2).
using IpAddress = std::array<std::uint8_t, 16>;

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100; // 802.1Q C-tag
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88a8; // 802.1ad S-tag
inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoIcmpv6 = 58;
inline constexpr std::size_t kEthernetHeaderSize = 14;
inline constexpr std::size_t kVlanTagSize = 4;
inline constexpr std::size_t kMaxVlanTags = 2;
inline constexpr std::size_t kIpv4HeaderSize = 20;
inline constexpr std::size_t kIpv6HeaderSize = 40;
inline constexpr std::size_t kUdpHeaderSize = 8;
inline constexpr std::size_t kArpSize = 28;
/// Extension headers walked before giving up (RFC 8200 section 4.1 expects a handful at most).
inline constexpr std::size_t kMaxExtensionHeaders = 8;

enum class Verdict : std::uint8_t {
    HandleRequest,        // UDP to one of our addresses and service ports: resolve it
    ArpRequest,           // ARP request for one of our IPv4 addresses
    NeighborSolicitation, // NS whose target is one of our IPv6 addresses
    IcmpEchoRequest,      // ICMP echo request to one of our IPv4 addresses
    Icmpv6EchoRequest,    // ICMPv6 echo request to one of our IPv6 addresses
    Fragment,             // an IP fragment: counted and dropped (DESIGN.md section 3)
    NotForUs,             // well-formed, addressed elsewhere (other address, port or target)
    Other,                // well-formed, something we do not serve: exception path or drop
    Malformed,            // see MalformedReason
    Count_
};

enum class MalformedReason : std::uint8_t {
    None,
    TruncatedEthernet,
    TruncatedVlan,
    TruncatedArp,
    TruncatedIp,
    BadIpVersion,
    BadIhl,
    BadIpTotalLength,
    BadIpv4Checksum,
    BadIpv6PayloadLength,
    TruncatedExtensionHeader,
    TooManyExtensionHeaders,
    MisplacedHopByHop,
    BadSourceAddress,
    TruncatedUdp,
    BadUdpLength,
    BadUdpChecksum,
    ZeroUdpChecksumIpv6,
    TruncatedIcmp,
    BadIcmpChecksum,
    BadNeighborSolicitation,
    Count_
};

enum class L3Family : std::uint8_t { None, Ipv4, Ipv6 };

const char* to_string(Verdict v) noexcept;
const char* to_string(MalformedReason r) noexcept;
const char* to_string(L3Family f) noexcept;

/// What this node answers for. Addresses are fixed-capacity lists; an empty list answers nothing
/// of that family.
struct PacketConfig {
    static constexpr std::size_t kMaxPorts = 8;
    static constexpr std::size_t kMaxAddresses = 4;

    std::array<std::uint16_t, kMaxPorts> ports{wire::kDefaultPort};
    std::uint8_t port_count = 1;
    MacAddress mac{};
    std::array<Ipv4Address, kMaxAddresses> ipv4{};
    std::uint8_t ipv4_count = 0;
    /// Include the link-local address: neighbours solicit it (RFC 4861 section 7.2.2).
    std::array<IpAddress, kMaxAddresses> ipv6{};
    std::uint8_t ipv6_count = 0;

    bool is_service_port(std::uint16_t port) const noexcept;
    bool is_our_ipv4(const std::uint8_t* addr4) const noexcept;
    bool is_our_ipv6(const std::uint8_t* addr16) const noexcept;
};

/// The classification of one frame. Offsets are from the start of the frame. Fields past the
/// layer at which classification stopped are zero.
struct PacketView {
    Verdict verdict = Verdict::Malformed;
    MalformedReason reason = MalformedReason::None;
    L3Family family = L3Family::None;
    std::uint8_t vlan_count = 0;
    std::array<std::uint16_t, kMaxVlanTags> vlan_tpid{}; // outermost first
    std::array<std::uint16_t, kMaxVlanTags> vlan_tci{};
    std::uint16_t ethertype = 0;  // after the VLAN tags
    std::uint8_t l4_protocol = 0; // IP protocol / final IPv6 next header
    std::uint32_t l3_offset = 0;
    std::uint32_t l3_length = 0;  // IPv4 total length; IPv6 40 + payload length; ARP 28
    std::uint32_t l4_offset = 0;
    std::uint32_t l4_length = 0;  // UDP length field, or the ICMP / ICMPv6 message length
    std::uint32_t payload_offset = 0;
    IpAddress src_addr{}; // ARP: sender protocol address
    IpAddress dst_addr{}; // ARP: target protocol address
    IpAddress target{};   // ARP: target protocol address; NS: target address
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    /// HandleRequest: the UDP payload (the Handle datagram), inside the classified frame.
    ByteSpan payload{};
};

/// Classifies `frame` (the received octets; trailing Ethernet padding is allowed and ignored).
/// Never reads outside `frame`. Checksums are verified for what we would answer: the IPv4 header
/// always, UDP to our service ports (RFC 768: zero means "none" over IPv4; RFC 8200 section 8.1:
/// mandatory over IPv6), ICMP echo and ICMPv6 messages we answer.
PacketView classify(ByteSpan frame, const PacketConfig& config) noexcept;

/// classify() with what the receiving NIC already verified (DPDK RX checksum offload):
/// - `hint.ip` or `hint.l4` Bad: Malformed, BadIpv4Checksum or BadUdpChecksum, without parsing
///   further (a frame whose checksum failed cannot be trusted to say anything else; an L4 Bad
///   on TCP is counted as BadUdpChecksum too, as the NIC does not tell which protocol it was);
/// - `hint.ip` Good: the IPv4 header checksum is not recomputed;
/// - `hint.l4` Good: the UDP checksum is not recomputed, provided the UDP length covers the
///   whole IP payload (a NIC checks the IP payload; RFC 768 and we check `length` octets);
///   a zero UDP checksum over IPv6 is still Malformed (RFC 8200 section 8.1);
/// - Unknown: verified in software, exactly as classify(frame, config).
/// ICMP and ICMPv6 checksums are always verified in software: NICs do not check them.
PacketView classify(ByteSpan frame, const PacketConfig& config, ChecksumHint hint) noexcept;

/// Per-worker counts of verdicts and malformed reasons.
struct alignas(kCacheLine) PacketStats {
    std::array<Counter, static_cast<std::size_t>(Verdict::Count_)> verdicts;
    std::array<Counter, static_cast<std::size_t>(MalformedReason::Count_)> malformed;

    void count(const PacketView& view) noexcept;
    std::uint64_t of(Verdict v) const noexcept
    {
        return verdicts[static_cast<std::size_t>(v)].get();
    }
    std::uint64_t of(MalformedReason r) const noexcept
    {
        return malformed[static_cast<std::size_t>(r)].get();
    }
};

/// The IPv4-mapped form of a 4-octet address.
IpAddress map_ipv4(const std::uint8_t* addr4) noexcept;

} // namespace idpath::packet
