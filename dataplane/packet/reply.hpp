#pragma once
/// Replies built in place in the received frame's buffer (DESIGN.md section 3, steps 6-7).
///
/// Rules shared by every writer:
/// - `buffer` is the whole packet buffer: the received frame at its start, its size the capacity.
/// - `request` is classify()'s view of that frame, with the verdict the writer answers; any other
///   verdict, or a reply that would not fit the capacity, returns 0 and the frame must be dropped
///   (the buffer may then have been partly rewritten).
/// - VLAN tags are kept as received. A reply carries no IPv4 options and no IPv6 extension
///   headers: they describe the request's path (hop-by-hop, routing, destination options for the
///   final host) and none of them asks to be echoed (RFC 8200 section 4; RFC 791 options are
///   per-datagram). Stripping them also keeps a reply's header a fixed size.
/// - Replies shorter than the 60-octet Ethernet minimum are zero-padded to it when the capacity
///   allows, so no NIC has to.
/// - Checksums are computed in software, except that the UDP writers in ChecksumMode::Offload
///   leave the IPv4 header checksum 0 and the UDP checksum holding the pseudo-header sum, for a
///   NIC to complete on the frame's udp_reply_tx_checksums() request (docs/packet-path.md
///   "Checksums"). ARP, NA and echo replies are always final: they are rare, and the echo
///   replies are an RFC 1624 update of two words, cheaper than describing them to a NIC.
/// Return value: the reply frame's length in octets, or 0.
/// Thread-safety: pure functions. Hot path: yes; never allocates.

#include <cstddef>
#include <cstdint>

#include "dataplane/base/bytes.hpp"
#include "dataplane/packet/packet.hpp"

namespace idpath::packet {

inline constexpr std::size_t kMinEthernetFrame = 60; // 64 minus the FCS the NIC appends
inline constexpr std::uint8_t kReplyHopLimit = 64;   // RFC 1700 / RFC 8200 section 3 default

/// Where the payload of a UDP reply to `request` starts: Ethernet and VLAN tags, a 20-octet
/// IPv4 or 40-octet IPv6 header, 8 octets of UDP. Never more than request.payload_offset.
std::size_t udp_reply_payload_offset(const PacketView& request) noexcept;

/// Turns the HandleRequest frame into its UDP reply. The caller has already written the reply's
/// `payload_len` payload octets at request.payload_offset (over the request's payload; the
/// reply may be longer, up to buffer.size()). Moves the payload down to
/// udp_reply_payload_offset(request) when options or extension headers are stripped. Swaps MAC
/// addresses, IP addresses and ports; sets lengths, TTL / hop limit 64, and for IPv4 DF with
/// `ipv4_id` (an atomic datagram, RFC 6864 section 4.1), the header checksum; computes the UDP
/// checksum (RFC 768; mandatory over IPv6, RFC 8200 section 8.1). In ChecksumMode::Offload the
/// two checksums are left for the NIC, as the header says.
std::size_t write_udp_reply(MutableByteSpan buffer, const PacketView& request,
                            std::size_t payload_len, std::uint16_t ipv4_id = 0,
                            ChecksumMode mode = ChecksumMode::Software) noexcept;

/// The frame of a further datagram of a multi-datagram answer, in a fresh buffer `out`: the
/// L2-L4 headers of `first_reply` (the frame write_udp_reply built for `request`), then `payload`
/// (which may already be in `out` at udp_reply_payload_offset(request)). The IP and UDP headers
/// are then rewritten from `request` exactly as write_udp_reply wrote them, with this payload's
/// lengths and checksums (left for the NIC in ChecksumMode::Offload).
std::size_t write_udp_reply_next(MutableByteSpan out, ByteSpan first_reply,
                                 const PacketView& request, ByteSpan payload,
                                 std::uint16_t ipv4_id = 0,
                                 ChecksumMode mode = ChecksumMode::Software) noexcept;

/// The TX checksum request of every UDP reply to `request` (the same for all its datagrams):
/// l2_len = request.l3_offset (Ethernet and VLAN tags as received), l3_len 20 or 40 (replies
/// carry no options or extension headers), Ipv4Udp or Ipv6Udp. None for a view that is not a
/// HandleRequest over IPv4 or IPv6, or whose L2 headers do not fit the request's 8-bit field.
TxChecksums udp_reply_tx_checksums(const PacketView& request) noexcept;

/// Completes in software what a NIC does for `request` on `frame` (a frame an Offload writer
/// built): the IPv4 header checksum over l3_len octets, then the UDP checksum over the UDP
/// length from the header, seeded by the pseudo-header sum in its field (a computed 0 becomes
/// 0xFFFF, RFC 768). The result is byte for byte the ChecksumMode::Software frame. For tests,
/// and for a port that turns out not to offload after all. False (frame untouched) when the
/// request is None or its headers or UDP length do not fit `frame`.
bool complete_tx_checksums(MutableByteSpan frame, TxChecksums request) noexcept;

/// ARP reply (RFC 826 "Packet Reception"): opcode 2, sender = our MAC and the requested
/// address, target = the requester. 42 octets plus VLAN tags, padded to the Ethernet minimum.
std::size_t write_arp_reply(MutableByteSpan buffer, const PacketView& request,
                            const PacketConfig& config) noexcept;

/// Solicited Neighbor Advertisement (RFC 4861 sections 4.4 and 7.2.4) to the soliciting unicast
/// address: hop limit 255, Router clear, Solicited and Override set, a Target Link-Layer Address
/// option with our MAC, ICMPv6 checksum. Needs l3_offset + 72 octets of capacity.
std::size_t write_neighbor_advertisement(MutableByteSpan buffer, const PacketView& request,
                                         const PacketConfig& config) noexcept;

/// ICMP echo reply (RFC 792; RFC 1122 section 3.2.2.6): type 0, same identifier, sequence and
/// data, addresses swapped, TTL 64; checksums updated incrementally (RFC 1624).
std::size_t write_icmp_echo_reply(MutableByteSpan buffer, const PacketView& request) noexcept;

/// ICMPv6 echo reply (RFC 4443 section 4.2): type 129, same identifier, sequence and data,
/// addresses swapped, hop limit 64, extension headers stripped.
std::size_t write_icmpv6_echo_reply(MutableByteSpan buffer, const PacketView& request) noexcept;

} // namespace idpath::packet
