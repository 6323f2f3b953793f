#pragma once
/// Ethernet + IPv4/IPv6 + UDP frames around Handle datagrams, for the AF_XDP port: building a
/// query frame with complete checksums (nothing offloads them for us: the frame goes to the wire
/// as written, and the server drops bad ones) and taking an answer frame apart, checksums
/// verified. Pure functions over byte spans; the checksum arithmetic is dataplane/packet's.
/// Thread-safety: pure. Hot path: yes; never allocates.

#include <cstddef>
#include <cstdint>

#include "dataplane/base/bytes.hpp"
#include "dataplane/packet/packet.hpp"

namespace idpath::gun {

using packet::IpAddress;
using packet::MacAddress;

/// Everything but the payload of one query frame. IPv4 addresses are IPv4-mapped
/// (packet::map_ipv4), so one type carries both families.
struct FrameAddresses {
    MacAddress src_mac{};
    MacAddress dst_mac{};
    bool ipv6 = false;
    IpAddress src{};
    IpAddress dst{};
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
};

inline constexpr std::size_t kIpv4FrameHeaders =
    packet::kEthernetHeaderSize + packet::kIpv4HeaderSize + packet::kUdpHeaderSize; // 42
inline constexpr std::size_t kIpv6FrameHeaders =
    packet::kEthernetHeaderSize + packet::kIpv6HeaderSize + packet::kUdpHeaderSize; // 62

inline constexpr std::size_t frame_headers(bool ipv6) noexcept
{
    return ipv6 ? kIpv6FrameHeaders : kIpv4FrameHeaders;
}

/// Writes the frame carrying `payload` from `a` into `out`: Ethernet II, IPv4 (DF, TTL 64, no
/// options, header checksum) or IPv6 (hop limit 64), UDP with its checksum. Returns the frame
/// size, or 0 when it does not fit `out`. `payload` may already sit at its place in `out`
/// (out.data() + frame_headers()): it is then not copied.
std::size_t build_frame(const FrameAddresses& a, ByteSpan payload, MutableByteSpan out) noexcept;

enum class AnswerFrameStatus : std::uint8_t {
    Ok,          // UDP over IPv4 or IPv6, lengths and checksums right
    NotUdp,      // ARP, ICMP, fragments, IPv6 extension headers, other EtherTypes: not an answer
    Malformed,   // truncated, or lengths that disagree
    BadChecksum, // IPv4 header or UDP checksum wrong (or a zero UDP checksum over IPv6)
};

/// One received frame taken apart. Fields past the point where parsing stopped are zero.
struct AnswerFrame {
    AnswerFrameStatus status = AnswerFrameStatus::Malformed;
    bool ipv6 = false;
    MacAddress dst_mac{};
    IpAddress src{}; // IPv4-mapped for IPv4
    IpAddress dst{};
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    ByteSpan payload{}; // the UDP payload, inside `frame`
};

/// Parses `frame` (trailing Ethernet padding allowed). Never reads outside it. Untagged frames
/// only: the generator sends none with VLAN tags, so answers carry none either.
AnswerFrame parse_answer_frame(ByteSpan frame) noexcept;

} // namespace idpath::gun
