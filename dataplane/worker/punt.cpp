#include "dataplane/worker/punt.hpp"

#include <algorithm>
#include <cstring>

#include "dataplane/packet/reply.hpp"

namespace idpath::worker {

ByteSpan FrameMiss::payload() const noexcept
{
    const std::size_t at = view.payload_offset;
    const std::size_t udp_payload = view.l4_length >= 8 ? view.l4_length - 8 : 0;
    if (at > length)
        return {};
    return ByteSpan{frame.data() + at, std::min<std::size_t>(udp_payload, length - at)};
}

querylog::Peer frame_peer(const packet::PacketView& view) noexcept
{
    querylog::Peer peer;
    peer.client = view.src_addr;
    peer.server = view.dst_addr;
    peer.client_port = view.src_port;
    peer.server_port = view.dst_port;
    peer.family = view.family == packet::L3Family::Ipv6 ? 6 : 4;
    peer.transport = querylog::Transport::Udp;
    return peer;
}

bool fill_frame_miss(FrameMiss& out, ByteSpan frame, const packet::PacketView& view,
                     std::uint64_t rx_ns, bool probed) noexcept
{
    if (frame.size() > out.frame.size())
        return false;
    std::memcpy(out.frame.data(), frame.data(), frame.size());
    out.length = static_cast<std::uint16_t>(frame.size());
    out.view = view;
    out.view.payload = {};
    out.rx_ns = rx_ns;
    out.probed = probed;
    return true;
}

std::size_t punt_reply_frame(const FrameMiss& miss, ByteSpan payload, std::uint16_t ipv4_id,
                             MutableByteSpan out) noexcept
{
    const packet::PacketView& view = miss.view;
    // The reply's L2 headers are the request's (MACs swapped in place by write_udp_reply); its
    // IP and UDP headers are written from the view, so only the L2 octets need copying.
    const std::size_t at = packet::udp_reply_payload_offset(view);
    if (view.l3_offset > miss.length || at > out.size() || payload.size() > out.size() - at)
        return 0;
    std::memcpy(out.data(), miss.frame.data(), view.l3_offset);
    std::memcpy(out.data() + at, payload.data(), payload.size());
    packet::PacketView placed = view;
    placed.payload_offset = static_cast<std::uint32_t>(at);
    return packet::write_udp_reply(out, placed, payload.size(), ipv4_id, packet::ChecksumMode::Software);
}

} // namespace idpath::worker
