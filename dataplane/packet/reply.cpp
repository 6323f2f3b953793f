#include "dataplane/packet/reply.hpp"

#include <cstring>

#include "dataplane/packet/checksum.hpp"

namespace idpath::packet {

namespace {

constexpr std::size_t kMaxIpLength = 65535;
constexpr std::uint8_t kIcmpEchoReply = 0;
constexpr std::uint8_t kIcmpv6EchoReply = 129;
constexpr std::uint8_t kIcmpv6NeighborAdvertisement = 136;
constexpr std::size_t kNaSize = 32; // 24 fixed + one 8-octet link-layer address option

std::size_t ip_header_size(L3Family family) noexcept
{
    return family == L3Family::Ipv4 ? kIpv4HeaderSize : kIpv6HeaderSize;
}

void swap_macs(std::uint8_t* frame) noexcept
{
    std::uint8_t tmp[6];
    std::memcpy(tmp, frame, 6);
    std::memcpy(frame, frame + 6, 6);
    std::memcpy(frame + 6, tmp, 6);
}

std::size_t pad(MutableByteSpan buffer, std::size_t length) noexcept
{
    if (length < kMinEthernetFrame && buffer.size() >= kMinEthernetFrame) {
        std::memset(buffer.data() + length, 0, kMinEthernetFrame - length);
        return kMinEthernetFrame;
    }
    return length;
}

/// RFC 791 section 3.1: a 20-octet header, no options. DF set: replies are atomic datagrams
/// (RFC 6864 section 4.1), so `id` need not be unique.
/// The checksum is left 0 for a NIC when `nic_checksum`, as DPDK's IPv4 offload requires.
void write_ipv4_header(std::uint8_t* ip, std::size_t total, std::uint16_t id, std::uint8_t ttl,
                       std::uint8_t protocol, const IpAddress& src, const IpAddress& dst,
                       bool nic_checksum = false) noexcept
{
    ip[0] = 0x45;
    ip[1] = 0; // DSCP default, not ECN-capable
    store_be16(ip + 2, static_cast<std::uint16_t>(total));
    store_be16(ip + 4, id);
    store_be16(ip + 6, 0x4000);
    ip[8] = ttl;
    ip[9] = protocol;
    std::memcpy(ip + 12, src.data() + 12, 4);
    std::memcpy(ip + 16, dst.data() + 12, 4);
    store_be16(ip + 10, 0);
    if (!nic_checksum)
        store_be16(ip + 10, internet_checksum(ByteSpan{ip, kIpv4HeaderSize}));
}

/// RFC 8200 section 3: traffic class and flow label zero (RFC 6437 allows an unlabelled flow).
void write_ipv6_header(std::uint8_t* ip, std::size_t payload_length, std::uint8_t next,
                       std::uint8_t hop_limit, const IpAddress& src, const IpAddress& dst) noexcept
{
    store_be32(ip, 0x60000000u);
    store_be16(ip + 4, static_cast<std::uint16_t>(payload_length));
    ip[6] = next;
    ip[7] = hop_limit;
    std::memcpy(ip + 8, src.data(), 16);
    std::memcpy(ip + 24, dst.data(), 16);
}

/// Writes the IP and UDP headers of a reply whose payload already sits after them.
void write_udp_headers(std::uint8_t* frame, const PacketView& request, std::size_t payload_len,
                       std::uint16_t ipv4_id, ChecksumMode mode) noexcept
{
    const bool nic = mode == ChecksumMode::Offload;
    std::uint8_t* ip = frame + request.l3_offset;
    std::uint8_t* udp = ip + ip_header_size(request.family);
    const std::size_t udp_length = kUdpHeaderSize + payload_len;
    std::uint64_t sum = 0;
    if (request.family == L3Family::Ipv4) {
        write_ipv4_header(ip, kIpv4HeaderSize + udp_length, ipv4_id, kReplyHopLimit, kProtoUdp,
                          request.dst_addr, request.src_addr, nic);
        sum = pseudo_header_v4(ip + 12, ip + 16, kProtoUdp, static_cast<std::uint32_t>(udp_length));
    } else {
        write_ipv6_header(ip, udp_length, kProtoUdp, kReplyHopLimit, request.dst_addr,
                          request.src_addr);
        sum = pseudo_header_v6(ip + 8, ip + 24, kProtoUdp, static_cast<std::uint32_t>(udp_length));
    }
    store_be16(udp, request.dst_port);
    store_be16(udp + 2, request.src_port);
    store_be16(udp + 4, static_cast<std::uint16_t>(udp_length));
    if (nic) { // the NIC sums the datagram over this seed and stores the complement
        store_be16(udp + 6, checksum_fold(sum));
        return;
    }
    store_be16(udp + 6, 0);
    const std::uint16_t c = checksum_finish(checksum_add(sum, ByteSpan{udp, udp_length}));
    store_be16(udp + 6, c == 0 ? 0xffff : c); // RFC 768: a computed zero is sent as all ones
}

bool udp_reply_fits(const PacketView& request, std::size_t payload_len) noexcept
{
    if (request.verdict != Verdict::HandleRequest)
        return false;
    if (request.family != L3Family::Ipv4 && request.family != L3Family::Ipv6)
        return false;
    // RFC 791 total length and RFC 8200 payload length are 16 bits.
    return ip_header_size(request.family) + kUdpHeaderSize + payload_len <= kMaxIpLength;
}

} // namespace

std::size_t udp_reply_payload_offset(const PacketView& request) noexcept
{
    return request.l3_offset + ip_header_size(request.family) + kUdpHeaderSize;
}

std::size_t write_udp_reply(MutableByteSpan buffer, const PacketView& request,
                            std::size_t payload_len, std::uint16_t ipv4_id,
                            ChecksumMode mode) noexcept
{
    if (!udp_reply_fits(request, payload_len))
        return 0;
    const std::size_t from = request.payload_offset;
    const std::size_t to = udp_reply_payload_offset(request);
    if (to > from || from > buffer.size() || payload_len > buffer.size() - from)
        return 0;
    std::uint8_t* frame = buffer.data();
    if (to != from)
        std::memmove(frame + to, frame + from, payload_len);
    swap_macs(frame);
    write_udp_headers(frame, request, payload_len, ipv4_id, mode);
    return pad(buffer, to + payload_len);
}

std::size_t write_udp_reply_next(MutableByteSpan out, ByteSpan first_reply,
                                 const PacketView& request, ByteSpan payload,
                                 std::uint16_t ipv4_id, ChecksumMode mode) noexcept
{
    if (!udp_reply_fits(request, payload.size()))
        return 0;
    const std::size_t headers = udp_reply_payload_offset(request);
    if (first_reply.size() < headers || out.size() < headers ||
        payload.size() > out.size() - headers)
        return 0;
    if (!payload.empty())
        std::memmove(out.data() + headers, payload.data(), payload.size());
    std::memmove(out.data(), first_reply.data(), headers);
    // L2 (MACs, VLAN tags) stays as copied; IP and UDP are rewritten from the request's view,
    // so nothing depends on first_reply's length fields being right.
    write_udp_headers(out.data(), request, payload.size(), ipv4_id, mode);
    return pad(out, headers + payload.size());
}

TxChecksums udp_reply_tx_checksums(const PacketView& request) noexcept
{
    if (request.verdict != Verdict::HandleRequest || request.l3_offset > 0xff)
        return {};
    if (request.family == L3Family::Ipv4)
        return {TxOffload::Ipv4Udp, static_cast<std::uint8_t>(request.l3_offset),
                static_cast<std::uint8_t>(kIpv4HeaderSize)};
    if (request.family == L3Family::Ipv6)
        return {TxOffload::Ipv6Udp, static_cast<std::uint8_t>(request.l3_offset),
                static_cast<std::uint8_t>(kIpv6HeaderSize)};
    return {};
}

bool complete_tx_checksums(MutableByteSpan frame, TxChecksums request) noexcept
{
    if (request.offload == TxOffload::None)
        return false;
    const std::size_t udp_at = std::size_t{request.l2_len} + request.l3_len;
    if (udp_at > frame.size() || frame.size() - udp_at < kUdpHeaderSize)
        return false;
    std::uint8_t* ip = frame.data() + request.l2_len;
    std::uint8_t* udp = frame.data() + udp_at;
    const std::size_t udp_length = load_be16(udp + 4);
    if (udp_length < kUdpHeaderSize || udp_length > frame.size() - udp_at)
        return false;
    if (request.offload == TxOffload::Ipv4Udp) {
        store_be16(ip + 10, 0);
        store_be16(ip + 10, internet_checksum(ByteSpan{ip, request.l3_len}));
    }
    const std::uint16_t c = checksum_finish(checksum_add(0, ByteSpan{udp, udp_length}));
    store_be16(udp + 6, c == 0 ? 0xffff : c);
    return true;
}

std::size_t write_arp_reply(MutableByteSpan buffer, const PacketView& request,
                            const PacketConfig& config) noexcept
{
    if (request.verdict != Verdict::ArpRequest || request.l3_offset > buffer.size() ||
        buffer.size() - request.l3_offset < kArpSize)
        return 0;
    std::uint8_t* frame = buffer.data();
    std::uint8_t* a = frame + request.l3_offset;
    // RFC 826 "Packet Reception": swap hardware and protocol fields, put in our own address,
    // set the opcode to reply. The target becomes the requester, from its sender fields.
    std::memcpy(frame, frame + 6, 6);
    std::memcpy(frame + 6, config.mac.data(), 6);
    std::memcpy(a + 18, a + 8, 6);   // THA <- SHA
    std::memcpy(a + 24, a + 14, 4);  // TPA <- SPA
    std::memcpy(a + 8, config.mac.data(), 6);
    std::memcpy(a + 14, request.target.data() + 12, 4);
    store_be16(a + 6, 2);
    return pad(buffer, request.l3_offset + kArpSize);
}

std::size_t write_neighbor_advertisement(MutableByteSpan buffer, const PacketView& request,
                                         const PacketConfig& config) noexcept
{
    const std::size_t length = request.l3_offset + kIpv6HeaderSize + kNaSize;
    if (request.verdict != Verdict::NeighborSolicitation || length > buffer.size())
        return 0;
    std::uint8_t* frame = buffer.data();
    std::memcpy(frame, frame + 6, 6);
    std::memcpy(frame + 6, config.mac.data(), 6);
    std::uint8_t* ip = frame + request.l3_offset;
    // RFC 4861 section 7.2.4: from the target address to the solicitation's source.
    write_ipv6_header(ip, kNaSize, kProtoIcmpv6, 255, request.target, request.src_addr);
    std::uint8_t* c = ip + kIpv6HeaderSize;
    c[0] = kIcmpv6NeighborAdvertisement;
    c[1] = 0;
    store_be16(c + 2, 0);
    store_be32(c + 4, 0x60000000u); // R=0 (a host), S=1, O=1 (RFC 4861 section 4.4)
    std::memcpy(c + 8, request.target.data(), 16);
    c[24] = 2; // Target Link-Layer Address (RFC 4861 section 4.6.1), length in 8-octet units
    c[25] = 1;
    std::memcpy(c + 26, config.mac.data(), 6);
    const std::uint64_t sum = pseudo_header_v6(ip + 8, ip + 24, kProtoIcmpv6, kNaSize);
    store_be16(c + 2, checksum_finish(checksum_add(sum, ByteSpan{c, kNaSize})));
    return pad(buffer, length);
}

std::size_t write_icmp_echo_reply(MutableByteSpan buffer, const PacketView& request) noexcept
{
    // The classifier sends option-bearing echoes elsewhere, so the header is 20 octets and the
    // reply is the request, edited in place.
    const std::size_t end = std::size_t{request.l3_offset} + request.l3_length;
    if (request.verdict != Verdict::IcmpEchoRequest || end > buffer.size() ||
        request.l4_offset != request.l3_offset + kIpv4HeaderSize || request.l4_length < 8 ||
        request.l4_offset + request.l4_length != end)
        return 0;
    std::uint8_t* frame = buffer.data();
    swap_macs(frame);
    std::uint8_t* ip = frame + request.l3_offset;
    // Swapping source and destination leaves the header sum unchanged; only TTL moves.
    const std::uint16_t old_ttl_word = load_be16(ip + 8);
    std::memcpy(ip + 12, request.dst_addr.data() + 12, 4);
    std::memcpy(ip + 16, request.src_addr.data() + 12, 4);
    ip[8] = kReplyHopLimit;
    store_be16(ip + 10, checksum_update16(load_be16(ip + 10), old_ttl_word, load_be16(ip + 8)));
    std::uint8_t* c = frame + request.l4_offset;
    const std::uint16_t old_type_word = load_be16(c);
    c[0] = kIcmpEchoReply;
    store_be16(c + 2, checksum_update16(load_be16(c + 2), old_type_word, load_be16(c)));
    return pad(buffer, end);
}

std::size_t write_icmpv6_echo_reply(MutableByteSpan buffer, const PacketView& request) noexcept
{
    const std::size_t end = std::size_t{request.l3_offset} + request.l3_length;
    const std::size_t to = request.l3_offset + kIpv6HeaderSize;
    if (request.verdict != Verdict::Icmpv6EchoRequest || end > buffer.size() ||
        request.l4_length < 8 || request.l4_offset < to || request.l4_offset > end ||
        request.l4_length != end - request.l4_offset)
        return 0;
    std::uint8_t* frame = buffer.data();
    std::uint8_t* c = frame + to;
    if (request.l4_offset != to) // extension headers are not echoed
        std::memmove(c, frame + request.l4_offset, request.l4_length);
    swap_macs(frame);
    write_ipv6_header(frame + request.l3_offset, request.l4_length, kProtoIcmpv6, kReplyHopLimit,
                      request.dst_addr, request.src_addr);
    // The pseudo-header sum is the same with the addresses swapped and the same length, so the
    // type change is the only difference (RFC 1624).
    const std::uint16_t old_type_word = load_be16(c);
    c[0] = kIcmpv6EchoReply;
    store_be16(c + 2, checksum_update16(load_be16(c + 2), old_type_word, load_be16(c)));
    return pad(buffer, to + request.l4_length);
}

} // namespace idpath::packet
