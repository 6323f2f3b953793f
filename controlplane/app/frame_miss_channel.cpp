#include "controlplane/app/frame_miss_channel.hpp"

#include <array>
#include <cstring>
#include <memory>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/fragment.hpp"

namespace idpath::app {

MissChannel::Served FrameMissChannel::serve_one(Handler& handler)
{
    thread_local const std::unique_ptr<worker::FrameMiss> miss = std::make_unique<worker::FrameMiss>();
    if (!queues_.misses.take(*miss))
        return Served::None;
    const Punted p{miss->payload(), worker::frame_peer(miss->view), miss->rx_ns, miss->probed};
    const ByteSpan reply = handler.reply(p);
    if (reply.size() < wire::kEnvelopeSize) {
        handler.sent(p, 0);
        return Served::Silent;
    }
    const ByteSpan message = reply.subspan(wire::kEnvelopeSize);
    const std::uint32_t count = wire::datagram_count(message.size());
    const std::span<const std::uint8_t, wire::kEnvelopeSize> base(reply.data(), wire::kEnvelopeSize);
    querylog::Probe* probe = p.probed ? handler.probe() : nullptr;
    const bool given = queues_.replies.give(count, [&](std::size_t k, worker::ReplyFrame& slot) {
        ByteSpan datagram = reply;
        std::array<std::uint8_t, wire::kMaxUdpDatagram> cut;
        if (count > 1) {
            // As the serving path cuts: the envelope repeated with SequenceNumber k.
            std::span<std::uint8_t, wire::kEnvelopeSize> envelope(cut.data(), wire::kEnvelopeSize);
            wire::fragment_envelope(base, static_cast<std::uint32_t>(k), count, envelope);
            const ByteSpan chunk = wire::fragment_payload(message, static_cast<std::uint32_t>(k));
            std::memcpy(cut.data() + wire::kEnvelopeSize, chunk.data(), chunk.size());
            datagram = ByteSpan{cut.data(), wire::kEnvelopeSize + chunk.size()};
        }
        const std::uint16_t id = ipv4_id_.fetch_add(1, std::memory_order_relaxed);
        // 0 (a reply that does not fit a frame) is sent as nothing, and counted by the worker.
        slot.length = static_cast<std::uint16_t>(
            worker::punt_reply_frame(*miss, datagram, id, {slot.frame.data(), slot.frame.size()}));
        // The frame exactly as the worker will transmit it (it only copies it into a buffer).
        if (probe != nullptr && slot.length != 0)
            probe->capture(0, querylog::ProbeDirection::Response, querylog::ProbeLink::Ethernet,
                           {slot.frame.data(), slot.length});
    });
    handler.sent(p, given ? count : 0);
    return given ? Served::Replied : Served::SendFailed;
}

} // namespace idpath::app
