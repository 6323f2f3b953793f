#include "dataplane/querylog/probe.hpp"

#include "dataplane/packet/checksum.hpp"

namespace idpath::querylog {

namespace {

constexpr std::uint8_t kUdp = 17;

/// Copies `part` into `out` at `at` as far as `out` reaches; returns the new offset.
std::size_t copy_part(ProbeSlot& s, std::size_t at, ByteSpan part) noexcept
{
    if (at < s.length) {
        const std::size_t n = std::min<std::size_t>(part.size(), s.length - at);
        std::memcpy(s.data.data() + at, part.data(), n);
    }
    return at + part.size();
}

} // namespace

void capture_udp(Probe& probe, std::uint64_t time_ns, ProbeDirection d, const ProbeUdpPeers& peers,
                 ByteSpan head, ByteSpan tail) noexcept
{
    const std::size_t payload = head.size() + tail.size();
    const std::size_t udp_length = 8 + payload;
    if (udp_length > 0xffff)
        return; // no such UDP datagram
    std::array<std::uint8_t, 48> h{};
    std::size_t ip_length = 0;
    std::uint64_t sum = 0;
    if (peers.ipv4) {
        ip_length = 20;
        h[0] = 0x45;
        store_be16(&h[2], static_cast<std::uint16_t>(20 + udp_length));
        h[6] = 0x40; // DF
        h[8] = 64;
        h[9] = kUdp;
        std::memcpy(&h[12], peers.src.data() + 12, 4);
        std::memcpy(&h[16], peers.dst.data() + 12, 4);
        store_be16(&h[10], packet::internet_checksum({h.data(), 20}));
        sum = packet::pseudo_header_v4(&h[12], &h[16], kUdp, static_cast<std::uint32_t>(udp_length));
    } else {
        ip_length = 40;
        h[0] = 0x60;
        store_be16(&h[4], static_cast<std::uint16_t>(udp_length));
        h[6] = kUdp;
        h[7] = 64;
        std::memcpy(&h[8], peers.src.data(), 16);
        std::memcpy(&h[24], peers.dst.data(), 16);
        sum = packet::pseudo_header_v6(&h[8], &h[24], kUdp, static_cast<std::uint32_t>(udp_length));
    }
    std::uint8_t* udp = &h[ip_length];
    store_be16(udp, peers.src_port);
    store_be16(udp + 2, peers.dst_port);
    store_be16(udp + 4, static_cast<std::uint16_t>(udp_length));
    sum = packet::checksum_add(sum, {udp, 8});
    // Only the last span of a sum may be odd: an odd head is summed with the tail's first
    // octet by shifting the tail's sum a byte (ones-complement sums commute with byte swaps).
    sum = packet::checksum_add(sum, head);
    if (head.size() % 2 == 0) {
        sum = packet::checksum_add(sum, tail);
    } else {
        const std::uint16_t t = packet::checksum_fold(packet::checksum_add(0, tail));
        sum += static_cast<std::uint16_t>((t >> 8) | (t << 8));
    }
    std::uint16_t c = packet::checksum_finish(sum);
    store_be16(udp + 6, c == 0 ? 0xffff : c);

    ProbeSlot* s = probe.begin(time_ns, d, ProbeLink::RawIp, ip_length + udp_length);
    if (s == nullptr)
        return;
    std::size_t at = copy_part(*s, 0, {h.data(), ip_length + 8});
    at = copy_part(*s, at, head);
    copy_part(*s, at, tail);
}

} // namespace idpath::querylog
