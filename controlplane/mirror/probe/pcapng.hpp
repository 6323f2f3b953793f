#pragma once
/// The few pcapng blocks a probe file needs (draft-ietf-opsawg-pcapng; what Wireshark, tshark
/// and tcpdump read): a Section Header Block, one Interface Description Block per link type
/// with nanosecond timestamps (if_tsresol 9), and Enhanced Packet Blocks whose epb_flags carry
/// the direction (inbound or outbound). Written in host byte order, which the section's
/// byte-order magic declares. Pure functions appending to a buffer; no I/O.
///
/// Written here rather than with a library: Debian's libpcap writes only the older pcap
/// format, and DPDK's rte_pcapng needs the EAL, which the kernel-socket modes do not start.

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/base/bytes.hpp"

namespace idpath::mirror::pcapng {

inline constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
inline constexpr std::uint32_t kInterfaceDescription = 0x00000001;
inline constexpr std::uint32_t kEnhancedPacket = 0x00000006;
inline constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;

/// LINKTYPE_* values (tcpdump.org/linktypes.html).
inline constexpr std::uint16_t kLinkEthernet = 1;
inline constexpr std::uint16_t kLinkRaw = 101; // an IPv4 or IPv6 packet, no link header

/// epb_flags bits 0-1.
enum class Direction : std::uint32_t { Unknown = 0, Inbound = 1, Outbound = 2 };

/// A Section Header Block, its shb_userappl naming `application` (empty: no option).
void append_section_header(std::string& out, std::string_view application);

/// An Interface Description Block for `link_type` with snap length `snap_length` and
/// if_tsresol 9 (timestamps in nanoseconds), its if_name `name` (empty: no option). Interfaces
/// are numbered 0, 1, ... in the order their blocks appear in the section.
void append_interface(std::string& out, std::uint16_t link_type, std::uint32_t snap_length,
                      std::string_view name);

/// An Enhanced Packet Block: `data` (the captured octets) of a packet of `original_length`
/// octets seen on `interface` at `time_ns` (Unix epoch, nanoseconds), with its direction.
void append_packet(std::string& out, std::uint32_t interface, std::uint64_t time_ns,
                   ByteSpan data, std::uint32_t original_length, Direction direction);

} // namespace idpath::mirror::pcapng
