#include "dataplane/wire/message.hpp"

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/detail.hpp"
#include "dataplane/wire/fragment.hpp"

namespace idpath::wire {

namespace {

constexpr std::size_t kPreambleSize = kEnvelopeSize + kHeaderSize;

} // namespace

Result<MessageView, WireError> decode_message(ByteSpan message) noexcept
{
    if (message.size() < kHeaderSize)
        return Err{WireError::MessageTooShort};
    if (message.size() > kMaxMessageLength)
        return Err{WireError::MessageTooLong};
    auto h = decode_header(message);
    if (!h)
        return Err{detail::error_of(h)};

    MessageView v;
    v.header = *h;
    const std::size_t after_header = message.size() - kHeaderSize;
    if (v.header.body_length > after_header)
        return Err{WireError::BodyLengthMismatch};
    v.header_and_body = message.first(kHeaderSize + v.header.body_length);
    v.body = message.subspan(kHeaderSize, v.header.body_length);

    // Encoder.decodeMessage reads a credential only when an int4 fits after the body; HANDLE.NET
    // itself always writes one (handle-protocol.md 1.2).
    ByteReader r(message.subspan(v.header_and_body.size()));
    if (r.at_end())
        return v;
    const std::uint32_t credential_length = r.u32();
    if (!r.ok())
        return Err{WireError::Truncated};
    if (credential_length > r.remaining())
        return Err{WireError::Truncated};
    if (credential_length < r.remaining())
        return Err{WireError::TrailingBytes};
    v.has_credential_length = true;
    v.credential = r.rest();
    return v;
}

Result<Frame, WireError> decode_frame(ByteSpan in) noexcept
{
    auto env = decode_envelope(in);
    if (!env)
        return Err{detail::error_of(env)};
    Frame f{*env, in.subspan(kEnvelopeSize)};
    const std::size_t total = f.envelope.message_length;
    const std::size_t got = f.payload.size();

    // A TCP frame (or a lenient UDP peer) carries the whole message behind one envelope.
    if (f.envelope.sequence == 0 && got == total)
        return f;

    // handle-protocol.md 1.12: datagram k holds octets [k*492, k*492+492) of the message.
    const std::uint32_t count = datagram_count(total);
    if (f.envelope.sequence >= count)
        return Err{WireError::BadField};
    const std::size_t offset = std::size_t{f.envelope.sequence} * kMaxUdpChunk;
    const std::size_t expected = f.envelope.sequence + 1 == count ? total - offset : kMaxUdpChunk;
    if (got > expected)
        return Err{WireError::TrailingBytes};
    if (got < expected)
        return Err{WireError::Truncated};
    return f;
}

MessageWriter::MessageWriter(MutableByteSpan out) noexcept : w_(out)
{
    // Envelope and header are written by finish(), once their lengths are known.
    (void)w_.claim(kPreambleSize);
}

std::size_t MessageWriter::body_size() const noexcept
{
    return w_.size() < kPreambleSize ? 0 : w_.size() - kPreambleSize;
}

std::size_t MessageWriter::finish(Envelope env, Header hdr) noexcept
{
    if (!w_.ok())
        return 0;
    hdr.body_length = static_cast<std::uint32_t>(body_size());
    w_.u32(0); // CredentialLength: unsigned (handle-protocol.md 1.2)
    if (!w_.ok())
        return 0;
    const std::size_t message_length = w_.size() - kEnvelopeSize;
    if (message_length > kMaxMessageLength)
        return 0;
    env.message_length = static_cast<std::uint32_t>(message_length);
    std::uint8_t* base = w_.buffer().data();
    encode_envelope(env, std::span<std::uint8_t, kEnvelopeSize>(base, kEnvelopeSize));
    encode_header(hdr, std::span<std::uint8_t, kHeaderSize>(base + kEnvelopeSize, kHeaderSize));
    return w_.size();
}

} // namespace idpath::wire
