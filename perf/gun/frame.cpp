#include "perf/gun/frame.hpp"

#include <cstring>

#include "dataplane/packet/checksum.hpp"

namespace idpath::gun {
namespace {

using namespace packet;

constexpr std::uint8_t kTtl = 64;
constexpr std::uint16_t kDontFragment = 0x4000;
constexpr std::size_t kV4Offset = 12; // IPv4 address inside its IPv4-mapped form

/// The UDP checksum of the header and payload at `udp`, given the pseudo-header sum. A computed
/// 0 is sent as 0xffff (RFC 768): 0 would mean "no checksum" over IPv4 and is invalid over IPv6.
std::uint16_t udp_checksum(std::uint64_t pseudo, const std::uint8_t* udp, std::size_t length) noexcept
{
    const std::uint16_t c = checksum_finish(checksum_add(pseudo, ByteSpan{udp, length}));
    return c == 0 ? 0xffff : c;
}

} // namespace

std::size_t build_frame(const FrameAddresses& a, ByteSpan payload, MutableByteSpan out) noexcept
{
    const std::size_t headers = frame_headers(a.ipv6);
    const std::size_t size = headers + payload.size();
    const std::size_t udp_length = kUdpHeaderSize + payload.size();
    if (size > out.size() || udp_length > 0xffff)
        return 0;
    std::uint8_t* f = out.data();
    if (!payload.empty() && payload.data() != f + headers) // memmove from null is undefined, even of 0
        std::memmove(f + headers, payload.data(), payload.size());

    std::memcpy(f, a.dst_mac.data(), 6);
    std::memcpy(f + 6, a.src_mac.data(), 6);
    store_be16(f + 12, a.ipv6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
    std::uint8_t* ip = f + kEthernetHeaderSize;
    std::uint8_t* udp;
    std::uint64_t pseudo;
    if (a.ipv6) {
        store_be32(ip, 0x60000000); // version 6, traffic class 0, flow label 0
        store_be16(ip + 4, static_cast<std::uint16_t>(udp_length));
        ip[6] = kProtoUdp;
        ip[7] = kTtl;
        std::memcpy(ip + 8, a.src.data(), 16);
        std::memcpy(ip + 24, a.dst.data(), 16);
        udp = ip + kIpv6HeaderSize;
        pseudo = pseudo_header_v6(ip + 8, ip + 24, kProtoUdp, static_cast<std::uint32_t>(udp_length));
    } else {
        ip[0] = 0x45;
        ip[1] = 0;
        store_be16(ip + 2, static_cast<std::uint16_t>(kIpv4HeaderSize + udp_length));
        store_be16(ip + 4, 0); // identification: unused with DF (RFC 6864)
        store_be16(ip + 6, kDontFragment);
        ip[8] = kTtl;
        ip[9] = kProtoUdp;
        store_be16(ip + 10, 0);
        std::memcpy(ip + 12, a.src.data() + kV4Offset, 4);
        std::memcpy(ip + 16, a.dst.data() + kV4Offset, 4);
        store_be16(ip + 10, internet_checksum(ByteSpan{ip, kIpv4HeaderSize}));
        udp = ip + kIpv4HeaderSize;
        pseudo = pseudo_header_v4(ip + 12, ip + 16, kProtoUdp, static_cast<std::uint32_t>(udp_length));
    }
    store_be16(udp, a.src_port);
    store_be16(udp + 2, a.dst_port);
    store_be16(udp + 4, static_cast<std::uint16_t>(udp_length));
    store_be16(udp + 6, 0);
    store_be16(udp + 6, udp_checksum(pseudo, udp, udp_length));
    return size;
}

AnswerFrame parse_answer_frame(ByteSpan frame) noexcept
{
    AnswerFrame r;
    if (frame.size() < kEthernetHeaderSize)
        return r;
    const std::uint8_t* f = frame.data();
    std::memcpy(r.dst_mac.data(), f, 6);
    const std::uint16_t type = load_be16(f + 12);
    const std::uint8_t* ip = f + kEthernetHeaderSize;
    const std::size_t l3_room = frame.size() - kEthernetHeaderSize;
    const std::uint8_t* udp;
    std::size_t udp_room; // octets the IP header says follow it
    std::uint64_t pseudo;
    if (type == kEtherTypeIpv4) {
        if (l3_room < kIpv4HeaderSize || (ip[0] >> 4) != 4)
            return r;
        const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
        const std::size_t total = load_be16(ip + 2);
        if (ihl < kIpv4HeaderSize || total < ihl || total > l3_room)
            return r;
        if (ip[9] != kProtoUdp || (load_be16(ip + 6) & 0x3fff) != 0) { // MF or an offset: a fragment
            r.status = AnswerFrameStatus::NotUdp;
            return r;
        }
        if (internet_checksum(ByteSpan{ip, ihl}) != 0) {
            r.status = AnswerFrameStatus::BadChecksum;
            return r;
        }
        r.src = map_ipv4(ip + 12);
        r.dst = map_ipv4(ip + 16);
        udp = ip + ihl;
        udp_room = total - ihl;
        pseudo = pseudo_header_v4(ip + 12, ip + 16, kProtoUdp, 0);
    } else if (type == kEtherTypeIpv6) {
        if (l3_room < kIpv6HeaderSize || (ip[0] >> 4) != 6)
            return r;
        const std::size_t payload = load_be16(ip + 4);
        if (payload > l3_room - kIpv6HeaderSize)
            return r;
        if (ip[6] != kProtoUdp) {
            r.status = AnswerFrameStatus::NotUdp;
            return r;
        }
        r.ipv6 = true;
        std::memcpy(r.src.data(), ip + 8, 16);
        std::memcpy(r.dst.data(), ip + 24, 16);
        udp = ip + kIpv6HeaderSize;
        udp_room = payload;
        pseudo = pseudo_header_v6(ip + 8, ip + 24, kProtoUdp, 0);
    } else {
        r.status = AnswerFrameStatus::NotUdp;
        return r;
    }

    if (udp_room < kUdpHeaderSize)
        return r;
    const std::size_t udp_length = load_be16(udp + 4);
    if (udp_length < kUdpHeaderSize || udp_length > udp_room)
        return r;
    const std::uint16_t sent = load_be16(udp + 6);
    // Zero means "not computed": allowed over IPv4 (RFC 768), never over IPv6 (RFC 8200 8.1).
    if (sent == 0 ? r.ipv6 : checksum_finish(checksum_add(pseudo + udp_length, ByteSpan{udp, udp_length})) != 0) {
        r.status = AnswerFrameStatus::BadChecksum;
        return r;
    }
    r.src_port = load_be16(udp);
    r.dst_port = load_be16(udp + 2);
    r.payload = ByteSpan{udp + kUdpHeaderSize, udp_length - kUdpHeaderSize};
    r.status = AnswerFrameStatus::Ok;
    return r;
}

} // namespace idpath::gun
