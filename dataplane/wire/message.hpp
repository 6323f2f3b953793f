#pragma once
/// A whole Handle message: header, body and credential (RFC 3652 section 2.2), plus the
/// envelope in front of it on the wire. Views only: nothing here allocates.

#include <cstddef>
#include <cstdint>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/errors.hpp"
#include "dataplane/wire/header.hpp"

namespace idpath::wire {

/// A decoded message; every span points into the input.
struct MessageView {
    Header header;
    ByteSpan header_and_body; // the octets a request digest (RD) and a signature cover
    ByteSpan body;
    bool has_credential_length = false; // false only for peers that omit the trailing int4
    ByteSpan credential;                // the octets after CredentialLength; empty if 0
};

/// Decodes a complete message (MessageLength octets, envelope excluded). Rules, after HANDLE.NET:
/// at least 24 octets; BodyLength must fit; a credential is read when 4 or more octets remain
/// after the body (1-3 stray octets are Truncated); its length must fit exactly (TrailingBytes
/// otherwise).
Result<MessageView, WireError> decode_message(ByteSpan message) noexcept;

/// One UDP datagram or TCP frame: an envelope and the message octets it carries.
struct Frame {
    Envelope envelope;
    ByteSpan payload; // the message, or one chunk of it for a multi-datagram message
};

/// Splits `in` into envelope and payload. For a single-datagram message the payload must hold
/// exactly MessageLength octets (more is TrailingBytes, fewer Truncated). For a chunk of a
/// multi-datagram message the payload must be the chunk the sequence number implies: 492 octets,
/// or the remainder for the last one. A sequence-0 payload of exactly MessageLength octets is
/// the whole message whatever its size (TCP frames never split). Errors: Truncated,
/// TrailingBytes, BadField (sequence >= datagram_count(MessageLength)) and envelope errors.
Result<Frame, WireError> decode_frame(ByteSpan in) noexcept;

/// Builds envelope + header + body + credential length in one buffer. Write the body through
/// body(), then finish(); lengths are filled in by finish().
class MessageWriter {
public:
    /// `out` receives envelope and message contiguously.
    explicit MessageWriter(MutableByteSpan out) noexcept;

    ByteWriter& body() noexcept { return w_; }
    /// Size of the body written so far.
    std::size_t body_size() const noexcept;

    /// Writes the header (body_length filled in), CredentialLength 0 and the envelope
    /// (message_length filled in). Returns envelope + message size, or 0 if `out` was too small
    /// or the message would exceed kMaxMessageLength.
    std::size_t finish(Envelope env, Header hdr) noexcept;

private:
    ByteWriter w_;
};

} // namespace idpath::wire
