#include "dataplane/wire/envelope.hpp"

#include "dataplane/base/byte_reader.hpp"

namespace idpath::wire {

namespace {

constexpr std::uint8_t kFlagMask =
    envflag::kCompressed | envflag::kEncrypted | envflag::kTruncated;

// Major 2 is every deployed peer; 3 is DO-IRP 3.0 (Wireshark accepts it); 5 is how very old
// CNRI clients mislabelled 2.0 (AbstractMessage.hasEqualOrGreaterVersion).
constexpr bool known_major(std::uint8_t major) noexcept
{
    return major == 2 || major == 3 || major == 5;
}

} // namespace

bool operator==(const Envelope& a, const Envelope& b) noexcept
{
    return a.major == b.major && a.minor == b.minor && a.flags == b.flags &&
           a.suggested_major == b.suggested_major && a.suggested_minor == b.suggested_minor &&
           a.session_id == b.session_id && a.request_id == b.request_id &&
           a.sequence == b.sequence && a.message_length == b.message_length;
}

Result<Envelope, WireError> decode_envelope(ByteSpan in) noexcept
{
    if (in.size() < kEnvelopeSize)
        return Err{WireError::Truncated};
    ByteReader r(in.first(kEnvelopeSize));
    Envelope e;
    e.major = r.u8();
    e.minor = r.u8();
    const std::uint8_t flag_hi = r.u8();
    e.suggested_minor = r.u8();
    // handle-protocol.md 1.3: DO-IRP 3.0 puts the suggested major in the low five bits; CNRI
    // reads only two of them, which agrees for every major it knows.
    e.flags = flag_hi & kFlagMask;
    e.suggested_major = flag_hi & envflag::kSuggestedMajorMask;
    e.session_id = r.u32();
    e.request_id = r.u32();
    e.sequence = r.u32();
    e.message_length = r.u32();
    if (!known_major(e.major))
        return Err{WireError::BadVersion};
    // Encoder.decodeEnvelope: negative or above MAX_MESSAGE_LENGTH is a format error.
    if (e.message_length > kMaxMessageLength)
        return Err{WireError::MessageTooLong};
    return e;
}

void encode_envelope(const Envelope& e, std::span<std::uint8_t, kEnvelopeSize> out) noexcept
{
    std::uint8_t* p = out.data();
    p[0] = e.major;
    p[1] = e.minor;
    p[2] = static_cast<std::uint8_t>((e.flags & kFlagMask) |
                                     (e.suggested_major & envflag::kSuggestedMajorMask));
    p[3] = e.suggested_minor;
    store_be32(p + 4, e.session_id);
    store_be32(p + 8, e.request_id);
    store_be32(p + 12, e.sequence);
    store_be32(p + 16, e.message_length);
}

Envelope reply_envelope(const Envelope& request, std::uint32_t message_length) noexcept
{
    // handle-protocol.md 1.14: answer in the version the client used, suggest our own.
    Envelope e;
    e.major = request.major;
    e.minor = request.minor;
    e.flags = 0;
    e.suggested_major = kImplMajor;
    e.suggested_minor = kImplMinor;
    e.session_id = request.session_id;
    e.request_id = request.request_id;
    e.sequence = 0;
    e.message_length = message_length;
    return e;
}

} // namespace idpath::wire
