#include "controlplane/app/socket_miss_channel.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <memory>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/fragment.hpp"

namespace idpath::app {

namespace {

/// The reply's two ends for a probe capture: from the address the request went to.
querylog::ProbeUdpPeers reply_peers(const querylog::Peer& peer) noexcept
{
    querylog::ProbeUdpPeers p;
    p.src = peer.server;
    p.src_port = peer.server_port;
    p.dst = peer.client;
    p.dst_port = peer.client_port;
    p.ipv4 = peer.family == 4;
    return p;
}

/// Sends `reply` to the miss's client, cut into datagrams as the serving threads cut theirs,
/// copying each datagram sent into `probe` (null: none); returns how many went (0: the first
/// failed, and so the reply as a whole).
std::uint32_t send_reply(const socket::Miss& miss, ByteSpan reply, querylog::Probe* probe)
{
    msghdr h{};
    h.msg_name = const_cast<sockaddr_storage*>(&miss.client);
    h.msg_namelen = miss.client_length;
    h.msg_control = miss.control_length ? const_cast<std::uint8_t*>(miss.control.data()) : nullptr;
    h.msg_controllen = miss.control_length;
    const ByteSpan message = reply.subspan(wire::kEnvelopeSize);
    const std::uint32_t count = wire::datagram_count(message.size());
    std::array<std::uint8_t, wire::kEnvelopeSize> envelope;
    for (std::uint32_t k = 0; k < count; ++k) {
        iovec iov[2];
        if (count == 1) {
            iov[0] = {const_cast<std::uint8_t*>(reply.data()), reply.size()};
            h.msg_iovlen = 1;
        } else {
            // The envelope repeated with SequenceNumber k.
            const std::span<const std::uint8_t, wire::kEnvelopeSize> base(reply.data(), wire::kEnvelopeSize);
            wire::fragment_envelope(base, k, count, envelope);
            const ByteSpan chunk = wire::fragment_payload(message, k);
            iov[0] = {envelope.data(), envelope.size()};
            iov[1] = {const_cast<std::uint8_t*>(chunk.data()), chunk.size()};
            h.msg_iovlen = 2;
        }
        h.msg_iov = iov;
        // The serving thread sends on this socket too; a datagram socket takes whole datagrams
        // from any number of senders.
        ssize_t n;
        do
            n = ::sendmsg(miss.fd, &h, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return k;
        if (probe != nullptr)
            querylog::capture_udp(*probe, 0, querylog::ProbeDirection::Response, reply_peers(miss.peer),
                                  {static_cast<const std::uint8_t*>(iov[0].iov_base), iov[0].iov_len},
                                  h.msg_iovlen == 2 ? ByteSpan{static_cast<const std::uint8_t*>(iov[1].iov_base),
                                                               iov[1].iov_len}
                                                    : ByteSpan{});
    }
    return count;
}

} // namespace

MissChannel::Served SocketMissChannel::serve_one(Handler& handler)
{
    // Per resolver thread, on the heap once: a miss is over 2 KiB.
    thread_local const std::unique_ptr<socket::Miss> miss = std::make_unique<socket::Miss>();
    if (!ring_.take(*miss))
        return Served::None;
    const Punted p{{miss->payload.data(), miss->length}, miss->peer, miss->rx_ns, miss->probed};
    const ByteSpan reply = handler.reply(p);
    if (reply.size() < wire::kEnvelopeSize) {
        handler.sent(p, 0);
        return Served::Silent;
    }
    const std::uint32_t datagrams = send_reply(*miss, reply, p.probed ? handler.probe() : nullptr);
    handler.sent(p, datagrams);
    return datagrams == wire::datagram_count(reply.size() - wire::kEnvelopeSize) ? Served::Replied
                                                                                 : Served::SendFailed;
}

} // namespace idpath::app
