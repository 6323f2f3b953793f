#include "dataplane/packet/packet.hpp"

#include <algorithm>
#include <cstring>

#include "dataplane/packet/checksum.hpp"

namespace idpath::packet {

namespace {

constexpr std::uint8_t kExtHopByHop = 0;
constexpr std::uint8_t kExtRouting = 43;
constexpr std::uint8_t kExtFragment = 44;
constexpr std::uint8_t kExtDestinationOptions = 60;
constexpr std::uint8_t kIcmpEchoRequest = 8;
constexpr std::uint8_t kIcmpv6EchoRequest = 128;
constexpr std::uint8_t kIcmpv6NeighborSolicitation = 135;
constexpr std::size_t kNsFixedSize = 24; // type .. target (RFC 4861 section 4.3)

PacketView stop(PacketView& v, Verdict verdict) noexcept
{
    v.verdict = verdict;
    return v;
}

PacketView malformed(PacketView& v, MalformedReason reason) noexcept
{
    v.verdict = Verdict::Malformed;
    v.reason = reason;
    return v;
}

/// A source we must never answer: an answer would go to a group or nowhere. RFC 1122
/// section 3.2.1.3: 0/8 and 127/8 are not valid sources on a wire; 224/4 is multicast (RFC 1112)
/// and 240/4 reserved, including the limited broadcast address.
bool bad_ipv4_source(const std::uint8_t* a) noexcept
{
    return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

/// RFC 4291 section 2.7: a multicast address is never a source; section 2.5.3: nor is loopback.
/// The unspecified address is handled by the caller (it is legal in DAD solicitations).
bool bad_ipv6_source(const IpAddress& a) noexcept
{
    static constexpr IpAddress kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return a[0] == 0xff || a == kLoopback;
}

/// RFC 1122 section 3.3.6: a unicast datagram that arrived in a link-layer group frame is
/// silently discarded, so a reply never leaves from a group MAC address.
bool group_dst_mac(ByteSpan frame) noexcept
{
    return (frame[0] & 0x01) != 0;
}

/// A unicast frame addressed to another station: a NIC filters these, but a promiscuous or
/// software port (net_pcap, AF_PACKET) does not, and answering one would speak with another
/// host's MAC. A config without a MAC (all zero) accepts any unicast destination.
bool not_our_mac(ByteSpan frame, const PacketConfig& config) noexcept
{
    if (group_dst_mac(frame))
        return true;
    if (config.mac == MacAddress{})
        return false;
    return !std::equal(config.mac.begin(), config.mac.end(), frame.data());
}

bool is_unspecified(const IpAddress& a) noexcept
{
    return a == IpAddress{};
}

/// The UDP header at frame[v.l4_offset], with `avail` octets of IP payload from there on. The
/// caller has checked the addresses.
PacketView classify_udp(ByteSpan frame, const PacketConfig& config, PacketView& v,
                        std::size_t avail, bool ipv6, ChecksumHint hint) noexcept
{
    // RFC 768: an 8-octet header whose Length covers header and data and fits the IP payload.
    if (avail < kUdpHeaderSize)
        return malformed(v, MalformedReason::TruncatedUdp);
    const std::uint8_t* u = frame.data() + v.l4_offset;
    const std::uint16_t length = load_be16(u + 4);
    if (length < kUdpHeaderSize || length > avail)
        return malformed(v, MalformedReason::BadUdpLength);
    v.src_port = load_be16(u);
    v.dst_port = load_be16(u + 2);
    v.l4_length = length;
    if (!config.is_service_port(v.dst_port))
        return stop(v, Verdict::NotForUs);
    if (v.src_port == 0) // RFC 768: zero means "no reply port"; an answer could not be addressed
        return malformed(v, MalformedReason::BadSourceAddress);
    const std::uint16_t stored = load_be16(u + 6);
    if (ipv6 && stored == 0) // RFC 8200 section 8.1: mandatory over IPv6
        return malformed(v, MalformedReason::ZeroUdpChecksumIpv6);
    // A NIC's L4 verdict covers the whole IP payload; it is ours only when that is the datagram.
    const bool nic_verified = hint.l4 == ChecksumStatus::Good && length == avail;
    if (stored != 0 && !nic_verified) { // RFC 768: zero over IPv4 means the sender computed none
        const std::uint64_t pseudo =
            ipv6 ? pseudo_header_v6(v.src_addr.data(), v.dst_addr.data(), kProtoUdp, length)
                 : pseudo_header_v4(v.src_addr.data() + 12, v.dst_addr.data() + 12, kProtoUdp,
                                    length);
        if (checksum_finish(checksum_add(pseudo, ByteSpan{u, length})) != 0)
            return malformed(v, MalformedReason::BadUdpChecksum);
    }
    v.payload_offset = v.l4_offset + static_cast<std::uint32_t>(kUdpHeaderSize);
    v.payload = frame.subspan(v.payload_offset, length - kUdpHeaderSize);
    return stop(v, Verdict::HandleRequest);
}

PacketView classify_arp(ByteSpan frame, const PacketConfig& config, PacketView& v) noexcept
{
    if (frame.size() - v.l3_offset < kArpSize)
        return malformed(v, MalformedReason::TruncatedArp);
    const std::uint8_t* a = frame.data() + v.l3_offset;
    v.l3_length = kArpSize;
    // RFC 826: we speak only Ethernet (htype 1) / IPv4 (ptype 0x0800), 6- and 4-octet addresses.
    if (load_be16(a) != 1 || load_be16(a + 2) != kEtherTypeIpv4 || a[4] != 6 || a[5] != 4)
        return stop(v, Verdict::Other);
    v.src_addr = map_ipv4(a + 14);
    v.dst_addr = map_ipv4(a + 24);
    v.target = v.dst_addr;
    if (load_be16(a + 6) != 1) // replies and RARP are the kernel's business
        return stop(v, Verdict::Other);
    if (!config.is_our_ipv4(a + 24))
        return stop(v, Verdict::NotForUs);
    if (bad_ipv4_source(a + 14) || std::memcmp(a + 14, a + 24, 4) == 0)
        return stop(v, Verdict::Other); // probes and gratuitous ARP (RFC 5227): not answered here
    return stop(v, Verdict::ArpRequest);
}

PacketView classify_icmp(ByteSpan frame, const PacketConfig& config, PacketView& v,
                         std::size_t avail) noexcept
{
    // RFC 792: type, code, checksum, identifier, sequence: 8 octets before the data.
    if (avail < 8)
        return malformed(v, MalformedReason::TruncatedIcmp);
    const std::uint8_t* c = frame.data() + v.l4_offset;
    v.l4_length = static_cast<std::uint32_t>(avail);
    if (c[0] != kIcmpEchoRequest || c[1] != 0)
        return stop(v, Verdict::Other);
    if (!config.is_our_ipv4(v.dst_addr.data() + 12) || not_our_mac(frame, config))
        return stop(v, Verdict::NotForUs);
    if (v.l4_offset - v.l3_offset != kIpv4HeaderSize)
        return stop(v, Verdict::Other); // RFC 1122 section 3.2.2.6 wants options reflected
    if (bad_ipv4_source(v.src_addr.data() + 12))
        return malformed(v, MalformedReason::BadSourceAddress);
    if (internet_checksum(ByteSpan{c, avail}) != 0)
        return malformed(v, MalformedReason::BadIcmpChecksum);
    return stop(v, Verdict::IcmpEchoRequest);
}

PacketView classify_ipv4(ByteSpan frame, const PacketConfig& config, PacketView& v,
                         ChecksumHint hint) noexcept
{
    const std::size_t avail = frame.size() - v.l3_offset;
    if (avail < kIpv4HeaderSize)
        return malformed(v, MalformedReason::TruncatedIp);
    const std::uint8_t* ip = frame.data() + v.l3_offset;
    if (ip[0] >> 4 != 4)
        return malformed(v, MalformedReason::BadIpVersion);
    v.family = L3Family::Ipv4;
    // RFC 791 section 3.1: IHL counts 32-bit words, at least 5; options fill the rest.
    const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    if (ihl < kIpv4HeaderSize || ihl > avail)
        return malformed(v, MalformedReason::BadIhl);
    const std::uint16_t total = load_be16(ip + 2);
    if (total < ihl || total > avail) // what follows `total` is Ethernet padding
        return malformed(v, MalformedReason::BadIpTotalLength);
    if (hint.ip != ChecksumStatus::Good && // RFC 791 section 3.1, RFC 1071
        internet_checksum(ByteSpan{ip, ihl}) != 0)
        return malformed(v, MalformedReason::BadIpv4Checksum);
    v.l3_length = total;
    v.l4_protocol = ip[9];
    v.src_addr = map_ipv4(ip + 12);
    v.dst_addr = map_ipv4(ip + 16);
    v.l4_offset = v.l3_offset + static_cast<std::uint32_t>(ihl);
    // RFC 791: MF set or a nonzero offset makes a fragment; we never reassemble.
    if ((load_be16(ip + 6) & 0x3fffu) != 0)
        return stop(v, Verdict::Fragment);
    const std::size_t l4_avail = total - ihl;
    if (v.l4_protocol == kProtoUdp) {
        if (!config.is_our_ipv4(ip + 16) || not_our_mac(frame, config))
            return stop(v, Verdict::NotForUs);
        if (bad_ipv4_source(ip + 12))
            return malformed(v, MalformedReason::BadSourceAddress);
        return classify_udp(frame, config, v, l4_avail, false, hint);
    }
    if (v.l4_protocol == kProtoIcmp)
        return classify_icmp(frame, config, v, l4_avail);
    return stop(v, Verdict::Other);
}

/// RFC 4861 section 7.1.1 validity checks, then whether the target is ours.
PacketView classify_ns(ByteSpan frame, const PacketConfig& config, PacketView& v,
                       std::size_t avail, std::uint8_t hop_limit) noexcept
{
    const std::uint8_t* c = frame.data() + v.l4_offset;
    if (avail < kNsFixedSize)
        return malformed(v, MalformedReason::TruncatedIcmp);
    if (hop_limit != 255 || c[1] != 0 || c[8] == 0xff) // off-link, bad code, multicast target
        return malformed(v, MalformedReason::BadNeighborSolicitation);
    std::memcpy(v.target.data(), c + 8, 16);
    bool has_source_lla = false;
    for (std::size_t at = kNsFixedSize; at < avail;) { // each option is >= 8 octets: bounded
        if (avail - at < 2 || c[at + 1] == 0 || std::size_t{c[at + 1]} * 8 > avail - at)
            return malformed(v, MalformedReason::BadNeighborSolicitation);
        has_source_lla = has_source_lla || c[at] == 1;
        at += std::size_t{c[at + 1]} * 8;
    }
    const std::uint64_t pseudo = pseudo_header_v6(v.src_addr.data(), v.dst_addr.data(),
                                                  kProtoIcmpv6, static_cast<std::uint32_t>(avail));
    if (checksum_finish(checksum_add(pseudo, ByteSpan{c, avail})) != 0)
        return malformed(v, MalformedReason::BadIcmpChecksum);
    if (is_unspecified(v.src_addr) && has_source_lla)
        return malformed(v, MalformedReason::BadNeighborSolicitation);
    if (!config.is_our_ipv6(v.target.data()))
        return stop(v, Verdict::NotForUs);
    // Sent to the target itself (unreachability detection) or to its solicited-node group
    // ff02::1:ffXX:XXXX (RFC 4291 section 2.7.1).
    static constexpr std::uint8_t kSolicitedPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                          0,    0,    0, 1, 0xff};
    const bool to_group = std::memcmp(v.dst_addr.data(), kSolicitedPrefix, 13) == 0 &&
                          std::memcmp(v.dst_addr.data() + 13, v.target.data() + 13, 3) == 0;
    if (!to_group && v.dst_addr != v.target)
        return stop(v, Verdict::NotForUs);
    if (is_unspecified(v.src_addr)) // duplicate address detection: the kernel decides
        return stop(v, Verdict::Other);
    if (bad_ipv6_source(v.src_addr))
        return malformed(v, MalformedReason::BadSourceAddress);
    return stop(v, Verdict::NeighborSolicitation);
}

PacketView classify_icmpv6(ByteSpan frame, const PacketConfig& config, PacketView& v,
                           std::size_t avail, std::uint8_t hop_limit) noexcept
{
    if (avail < 4) // RFC 4443 section 2.1: type, code, checksum
        return malformed(v, MalformedReason::TruncatedIcmp);
    const std::uint8_t* c = frame.data() + v.l4_offset;
    v.l4_length = static_cast<std::uint32_t>(avail);
    if (c[0] == kIcmpv6NeighborSolicitation)
        return classify_ns(frame, config, v, avail, hop_limit);
    if (c[0] != kIcmpv6EchoRequest || c[1] != 0)
        return stop(v, Verdict::Other);
    if (avail < 8) // RFC 4443 section 4.1: identifier and sequence number
        return malformed(v, MalformedReason::TruncatedIcmp);
    if (!config.is_our_ipv6(v.dst_addr.data()) || not_our_mac(frame, config))
        return stop(v, Verdict::NotForUs);
    if (is_unspecified(v.src_addr) || bad_ipv6_source(v.src_addr))
        return malformed(v, MalformedReason::BadSourceAddress);
    const std::uint64_t pseudo = pseudo_header_v6(v.src_addr.data(), v.dst_addr.data(),
                                                  kProtoIcmpv6, static_cast<std::uint32_t>(avail));
    if (checksum_finish(checksum_add(pseudo, ByteSpan{c, avail})) != 0)
        return malformed(v, MalformedReason::BadIcmpChecksum);
    return stop(v, Verdict::Icmpv6EchoRequest);
}

PacketView classify_ipv6(ByteSpan frame, const PacketConfig& config, PacketView& v,
                         ChecksumHint hint) noexcept
{
    const std::size_t avail = frame.size() - v.l3_offset;
    if (avail < kIpv6HeaderSize)
        return malformed(v, MalformedReason::TruncatedIp);
    const std::uint8_t* ip = frame.data() + v.l3_offset;
    if (ip[0] >> 4 != 6)
        return malformed(v, MalformedReason::BadIpVersion);
    v.family = L3Family::Ipv6;
    // RFC 8200 section 3: Payload Length counts what follows the fixed header, extension
    // headers included. Zero would announce a jumbogram (RFC 2675), which Ethernet cannot carry.
    const std::size_t payload_length = load_be16(ip + 4);
    if (kIpv6HeaderSize + payload_length > avail)
        return malformed(v, MalformedReason::BadIpv6PayloadLength);
    v.l3_length = static_cast<std::uint32_t>(kIpv6HeaderSize + payload_length);
    std::memcpy(v.src_addr.data(), ip + 8, 16);
    std::memcpy(v.dst_addr.data(), ip + 24, 16);
    const std::uint8_t hop_limit = ip[7];
    std::uint8_t next = ip[6];
    std::size_t at = kIpv6HeaderSize;
    // RFC 8200 section 4.1: a bounded walk over the headers we can skip; anything we do not
    // recognise (ESP, AH, mobility, ...) goes to the exception path.
    for (std::size_t count = 0;; ++count) {
        if (next == kExtFragment) { // RFC 8200 section 4.5
            v.l4_protocol = next;
            return stop(v, Verdict::Fragment);
        }
        if (next != kExtHopByHop && next != kExtRouting && next != kExtDestinationOptions)
            break;
        if (next == kExtHopByHop && count != 0) // RFC 8200 section 4.3: only right after IPv6
            return malformed(v, MalformedReason::MisplacedHopByHop);
        if (count == kMaxExtensionHeaders)
            return malformed(v, MalformedReason::TooManyExtensionHeaders);
        if (v.l3_length - at < 8) // every extension header is a multiple of 8 octets
            return malformed(v, MalformedReason::TruncatedExtensionHeader);
        const std::uint8_t* h = ip + at;
        const std::size_t length = (std::size_t{h[1]} + 1) * 8;
        if (length > v.l3_length - at)
            return malformed(v, MalformedReason::TruncatedExtensionHeader);
        if (next == kExtRouting && h[3] != 0) { // RFC 8200 section 4.4: not the final hop yet
            v.l4_protocol = next;
            return stop(v, Verdict::Other);
        }
        next = h[0];
        at += length;
    }
    v.l4_protocol = next;
    v.l4_offset = v.l3_offset + static_cast<std::uint32_t>(at);
    const std::size_t l4_avail = v.l3_length - at;
    if (next == kProtoUdp) {
        if (!config.is_our_ipv6(v.dst_addr.data()) || not_our_mac(frame, config))
            return stop(v, Verdict::NotForUs);
        if (is_unspecified(v.src_addr) || bad_ipv6_source(v.src_addr))
            return malformed(v, MalformedReason::BadSourceAddress);
        return classify_udp(frame, config, v, l4_avail, true, hint);
    }
    if (next == kProtoIcmpv6)
        return classify_icmpv6(frame, config, v, l4_avail, hop_limit);
    return stop(v, Verdict::Other);
}

} // namespace

bool PacketConfig::is_service_port(std::uint16_t port) const noexcept
{
    const std::size_t n = std::min<std::size_t>(port_count, kMaxPorts);
    return std::find(ports.begin(), ports.begin() + static_cast<std::ptrdiff_t>(n), port) !=
           ports.begin() + static_cast<std::ptrdiff_t>(n);
}

bool PacketConfig::is_our_ipv4(const std::uint8_t* addr4) const noexcept
{
    const std::size_t n = std::min<std::size_t>(ipv4_count, kMaxAddresses);
    for (std::size_t i = 0; i < n; ++i)
        if (std::memcmp(ipv4[i].data(), addr4, 4) == 0)
            return true;
    return false;
}

bool PacketConfig::is_our_ipv6(const std::uint8_t* addr16) const noexcept
{
    const std::size_t n = std::min<std::size_t>(ipv6_count, kMaxAddresses);
    for (std::size_t i = 0; i < n; ++i)
        if (std::memcmp(ipv6[i].data(), addr16, 16) == 0)
            return true;
    return false;
}

IpAddress map_ipv4(const std::uint8_t* addr4) noexcept
{
    IpAddress a{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::memcpy(a.data() + 12, addr4, 4);
    return a;
}

PacketView classify(ByteSpan frame, const PacketConfig& config) noexcept
{
    return classify(frame, config, ChecksumHint{});
}

PacketView classify(ByteSpan frame, const PacketConfig& config, ChecksumHint hint) noexcept
{
    PacketView v;
    if (hint.ip == ChecksumStatus::Bad)
        return malformed(v, MalformedReason::BadIpv4Checksum);
    if (hint.l4 == ChecksumStatus::Bad)
        return malformed(v, MalformedReason::BadUdpChecksum);
    if (frame.size() < kEthernetHeaderSize)
        return malformed(v, MalformedReason::TruncatedEthernet);
    if (frame[6] & 0x01) // IEEE 802: a group address is never a source
        return malformed(v, MalformedReason::BadSourceAddress);
    std::size_t at = 12;
    std::uint16_t type = load_be16(frame.data() + at);
    at += 2;
    while (type == kEtherTypeVlan || type == kEtherTypeQinQ) {
        if (v.vlan_count == kMaxVlanTags)
            return stop(v, Verdict::Other);
        if (frame.size() - at < kVlanTagSize)
            return malformed(v, MalformedReason::TruncatedVlan);
        v.vlan_tpid[v.vlan_count] = type;
        v.vlan_tci[v.vlan_count] = load_be16(frame.data() + at);
        ++v.vlan_count;
        type = load_be16(frame.data() + at + 2);
        at += kVlanTagSize;
    }
    v.ethertype = type;
    v.l3_offset = static_cast<std::uint32_t>(at);
    switch (type) {
    case kEtherTypeIpv4:
        return classify_ipv4(frame, config, v, hint);
    case kEtherTypeIpv6:
        return classify_ipv6(frame, config, v, hint);
    case kEtherTypeArp:
        return classify_arp(frame, config, v);
    default:
        return stop(v, Verdict::Other);
    }
}

void PacketStats::count(const PacketView& view) noexcept
{
    const auto v = static_cast<std::size_t>(view.verdict);
    if (v < verdicts.size())
        verdicts[v].add();
    const auto r = static_cast<std::size_t>(view.reason);
    if (view.verdict == Verdict::Malformed && r < malformed.size())
        malformed[r].add();
}

} // namespace idpath::packet
