#include "dataplane/packet/packet.hpp"

namespace idpath::packet {

const char* to_string(Verdict v) noexcept
{
    switch (v) {
    case Verdict::HandleRequest: return "handle_request";
    case Verdict::ArpRequest: return "arp_request";
    case Verdict::NeighborSolicitation: return "neighbor_solicitation";
    case Verdict::IcmpEchoRequest: return "icmp_echo_request";
    case Verdict::Icmpv6EchoRequest: return "icmpv6_echo_request";
    case Verdict::Fragment: return "fragment";
    case Verdict::NotForUs: return "not_for_us";
    case Verdict::Other: return "other";
    case Verdict::Malformed: return "malformed";
    case Verdict::Count_: break;
    }
    return "unknown";
}

const char* to_string(MalformedReason r) noexcept
{
    switch (r) {
    case MalformedReason::None: return "none";
    case MalformedReason::TruncatedEthernet: return "truncated_ethernet";
    case MalformedReason::TruncatedVlan: return "truncated_vlan";
    case MalformedReason::TruncatedArp: return "truncated_arp";
    case MalformedReason::TruncatedIp: return "truncated_ip";
    case MalformedReason::BadIpVersion: return "bad_ip_version";
    case MalformedReason::BadIhl: return "bad_ihl";
    case MalformedReason::BadIpTotalLength: return "bad_ip_total_length";
    case MalformedReason::BadIpv4Checksum: return "bad_ipv4_checksum";
    case MalformedReason::BadIpv6PayloadLength: return "bad_ipv6_payload_length";
    case MalformedReason::TruncatedExtensionHeader: return "truncated_extension_header";
    case MalformedReason::TooManyExtensionHeaders: return "too_many_extension_headers";
    case MalformedReason::MisplacedHopByHop: return "misplaced_hop_by_hop";
    case MalformedReason::BadSourceAddress: return "bad_source_address";
    case MalformedReason::TruncatedUdp: return "truncated_udp";
    case MalformedReason::BadUdpLength: return "bad_udp_length";
    case MalformedReason::BadUdpChecksum: return "bad_udp_checksum";
    case MalformedReason::ZeroUdpChecksumIpv6: return "zero_udp_checksum_ipv6";
    case MalformedReason::TruncatedIcmp: return "truncated_icmp";
    case MalformedReason::BadIcmpChecksum: return "bad_icmp_checksum";
    case MalformedReason::BadNeighborSolicitation: return "bad_neighbor_solicitation";
    case MalformedReason::Count_: break;
    }
    return "unknown";
}

const char* to_string(L3Family f) noexcept
{
    switch (f) {
    case L3Family::None: return "none";
    case L3Family::Ipv4: return "ipv4";
    case L3Family::Ipv6: return "ipv6";
    }
    return "unknown";
}

} // namespace idpath::packet
