#pragma once
/// The 20-octet message envelope (RFC 3652 section 2.2.1; handle-protocol.md section 1.3).

#include <cstdint>
#include <span>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::wire {

struct Envelope {
    std::uint8_t major = kImplMajor;
    std::uint8_t minor = kImplMinor;
    std::uint8_t flags = 0;           // envflag::kCompressed | kEncrypted | kTruncated
    std::uint8_t suggested_major = 0; // 0: the sender suggests its own version
    std::uint8_t suggested_minor = 0;
    std::uint32_t session_id = 0;
    std::uint32_t request_id = 0;
    std::uint32_t sequence = 0;       // 0-based datagram index of a multi-datagram message
    std::uint32_t message_length = 0; // of the whole message, the same in every datagram

    bool compressed() const noexcept { return flags & envflag::kCompressed; }
    bool encrypted() const noexcept { return flags & envflag::kEncrypted; }
    bool truncated() const noexcept { return flags & envflag::kTruncated; }
    /// True when this message spans several UDP datagrams. The TC bit alone is not enough:
    /// HANDLE.NET servers leave it clear on multi-datagram answers.
    bool multi_datagram() const noexcept
    {
        return truncated() || sequence != 0 || message_length > kMaxUdpChunk;
    }
};

bool operator==(const Envelope&, const Envelope&) noexcept;

/// Decodes the first 20 octets of `in`. Accepts major versions 2 and 3 (and 5, CNRI's marker for
/// legacy 2.0 clients); rejects MessageLength above kMaxMessageLength. Does not look past 20 octets.
Result<Envelope, WireError> decode_envelope(ByteSpan in) noexcept;

void encode_envelope(const Envelope& e, std::span<std::uint8_t, kEnvelopeSize> out) noexcept;

/// The envelope of a reply to `request`: same version, session and request id, sequence 0,
/// suggested version set to what idpath implements, CP/EC/TC clear.
Envelope reply_envelope(const Envelope& request, std::uint32_t message_length) noexcept;

} // namespace idpath::wire
