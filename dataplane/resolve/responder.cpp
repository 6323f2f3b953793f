#include "dataplane/resolve/responder.hpp"

#include "dataplane/wire/fragment.hpp"
#include "dataplane/wire/message.hpp"

namespace idpath::resolve {

Responder::Responder(PolicyRef policy, ResolveStats& stats, wire::ReassemblyLimits limits)
    : policy_(policy), stats_(stats), reassembler_(limits), out_(new std::uint8_t[kReplyBufferSize])
{
}

Responder::Reply Responder::on_udp(const table::Table& table, const wire::SourceKey& src, ByteSpan payload,
                                   std::uint32_t now_unix, std::uint64_t now_ms) noexcept
{
    stats_.bytes_in.add(payload.size());
    const auto env = wire::decode_envelope(payload);
    if (!env) {
        Outcome o;
        o.silence = Silence::BadEnvelope;
        o.malformed = true;
        o.wire_error = env.error();
        return finish(o, true, payload.size(), false);
    }

    wire::Envelope envelope = *env;
    ByteSpan message = payload.subspan(wire::kEnvelopeSize);
    const bool reassembled = envelope.multi_datagram();
    if (reassembled) {
        // A chunk of a larger request: validate it, then hand it to the bounded reassembler.
        const auto frame = wire::decode_frame(payload);
        if (!frame) {
            Outcome o;
            o.silence = Silence::BadMessage;
            o.malformed = true;
            o.wire_error = frame.error();
            return finish(o, true, payload.size(), false);
        }
        const auto r = reassembler_.add(src, frame->envelope, frame->payload, now_ms);
        if (r.status != wire::Reassembler::Status::Complete) {
            last_ = {};
            return last_; // partial (or refused; the reassembler counts why)
        }
        envelope = r.envelope;
        message = r.message;
    }

    const Policy& policy = policy_.get();
    // A reassembled request is not in one payload the miss ring could carry: answered here.
    const RequestContext ctx{policy.max_udp_datagrams * wire::kMaxUdpChunk, now_unix, true,
                             can_punt_ && !reassembled};
    return finish(resolve(envelope, message, table, policy, ctx, {out_.get(), kReplyBufferSize}), true,
                  reassembled ? wire::kEnvelopeSize + message.size() : payload.size(), reassembled);
}

Responder::Reply Responder::on_tcp(const table::Table& table, const wire::Envelope& envelope, ByteSpan message,
                                   std::uint32_t now_unix, bool reassembled, bool punt_room) noexcept
{
    stats_.bytes_in.add(wire::kEnvelopeSize + message.size());
    const Policy& policy = policy_.get();
    // A reassembled request is not in one frame the punt queue could carry: answered here.
    RequestContext ctx{wire::kMaxMessageLength, now_unix, false, can_punt_ && !reassembled};
    Outcome o = resolve(envelope, message, table, policy, ctx, {out_.get(), kReplyBufferSize});
    if (o.punt && !punt_room) {
        // Lost as a full UDP miss ring loses it, but answered: the connection stays usable.
        stats_.punted.add();
        stats_.punt_dropped.add();
        ctx.can_punt = false;
        o = resolve(envelope, message, table, policy, ctx, {out_.get(), kReplyBufferSize});
    }
    return finish(o, false, wire::kEnvelopeSize + message.size(), reassembled);
}

ByteSpan Responder::udp_datagram(std::uint32_t k, std::span<std::uint8_t, wire::kEnvelopeSize> envelope) const noexcept
{
    const std::span<const std::uint8_t, wire::kEnvelopeSize> base(last_.bytes.data(), wire::kEnvelopeSize);
    wire::fragment_envelope(base, k, last_.datagrams, envelope);
    return wire::fragment_payload(last_.bytes.subspan(wire::kEnvelopeSize), k);
}

Responder::Reply Responder::finish(const Outcome& o, bool udp, std::size_t request_bytes,
                                   bool reassembled) noexcept
{
    stats_.count(o);
    outcome_ = o;
    outcome_.request_bytes = static_cast<std::uint32_t>(request_bytes);
    outcome_.multi_datagram = reassembled;
    if (!o.answered() || o.punt) {
        last_ = {};
        last_.outcome = &outcome_;
        last_.punt = o.punt;
        return last_;
    }
    last_.outcome = &outcome_;
    last_.punt = false;
    last_.bytes = ByteSpan{out_.get(), o.size};
    last_.datagrams = udp ? wire::datagram_count(o.size - wire::kEnvelopeSize) : 1;
    stats_.datagrams_out.add(last_.datagrams);
    stats_.bytes_out.add(o.size + (last_.datagrams - 1) * wire::kEnvelopeSize);
    return last_;
}

} // namespace idpath::resolve
