#include "dataplane/worker/worker.hpp"

#include <cstring>

#include "dataplane/packet/reply.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::worker::detail {

namespace {

using packet::PacketView;

/// Writes datagram k's envelope and payload at the reply's payload offset in `buffer`; returns
/// their length, or 0 when they do not fit.
std::size_t place_datagram(MutableByteSpan buffer, const PacketView& view,
                           const resolve::Responder& responder, std::uint32_t k) noexcept
{
    std::array<std::uint8_t, wire::kEnvelopeSize> envelope;
    const ByteSpan payload = responder.udp_datagram(k, envelope);
    const std::size_t at = packet::udp_reply_payload_offset(view);
    const std::size_t len = wire::kEnvelopeSize + payload.size();
    if (at > buffer.size() || len > buffer.size() - at)
        return 0;
    std::memcpy(buffer.data() + at, envelope.data(), envelope.size());
    if (!payload.empty())
        std::memcpy(buffer.data() + at + envelope.size(), payload.data(), payload.size());
    return len;
}

} // namespace

bool is_local_service(packet::Verdict v) noexcept
{
    using packet::Verdict;
    return v == Verdict::ArpRequest || v == Verdict::NeighborSolicitation ||
           v == Verdict::IcmpEchoRequest || v == Verdict::Icmpv6EchoRequest;
}

std::size_t write_local_reply(MutableByteSpan buffer, const PacketView& view,
                              const packet::PacketConfig& config) noexcept
{
    switch (view.verdict) {
    case packet::Verdict::ArpRequest:
        return packet::write_arp_reply(buffer, view, config);
    case packet::Verdict::NeighborSolicitation:
        return packet::write_neighbor_advertisement(buffer, view, config);
    case packet::Verdict::IcmpEchoRequest:
        return packet::write_icmp_echo_reply(buffer, view);
    case packet::Verdict::Icmpv6EchoRequest:
        return packet::write_icmpv6_echo_reply(buffer, view);
    default:
        return 0;
    }
}

std::size_t write_first_datagram(MutableByteSpan buffer, const PacketView& view,
                                 const resolve::Responder& responder, std::uint16_t ipv4_id,
                                 packet::ChecksumMode mode) noexcept
{
    const std::size_t len = place_datagram(buffer, view, responder, 0);
    if (len == 0)
        return 0;
    // Written straight at its final offset rather than over the request's payload: no move
    // when options or extension headers are stripped, and less capacity needed.
    PacketView placed = view;
    placed.payload_offset = static_cast<std::uint32_t>(packet::udp_reply_payload_offset(view));
    return packet::write_udp_reply(buffer, placed, len, ipv4_id, mode);
}

std::size_t write_next_datagram(MutableByteSpan out, ByteSpan first_reply, const PacketView& view,
                                const resolve::Responder& responder, std::uint32_t k,
                                std::uint16_t ipv4_id, packet::ChecksumMode mode) noexcept
{
    const std::size_t len = place_datagram(out, view, responder, k);
    if (len == 0)
        return 0;
    const std::size_t at = packet::udp_reply_payload_offset(view);
    return packet::write_udp_reply_next(out, first_reply, view, ByteSpan{out.data() + at, len},
                                        ipv4_id, mode);
}

} // namespace idpath::worker::detail
