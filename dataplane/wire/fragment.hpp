#pragma once
/// Splitting a message into UDP datagrams (RFC 3652 section 2.3.1; handle-protocol.md 1.12).
/// Every datagram repeats the envelope with SequenceNumber 0..n-1 and MessageLength = the whole
/// message; the message is cut into kMaxUdpChunk-octet chunks.

#include <cstdint>
#include <span>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::wire {

/// Datagrams needed for a message of `message_length` octets (at least 1).
constexpr std::uint32_t datagram_count(std::size_t message_length) noexcept
{
    return message_length <= kMaxUdpChunk
               ? 1u
               : static_cast<std::uint32_t>((message_length + kMaxUdpChunk - 1) / kMaxUdpChunk);
}

/// Chunk k of `message` (k < datagram_count(message.size())).
ByteSpan fragment_payload(ByteSpan message, std::uint32_t k) noexcept;

/// Envelope of datagram k: `base` with SequenceNumber = k. Sets TC on every datagram when the
/// message needs more than one, as RFC 3652 asks (HANDLE.NET clients accept both).
void fragment_envelope(std::span<const std::uint8_t, kEnvelopeSize> base, std::uint32_t k,
                       std::uint32_t count, std::span<std::uint8_t, kEnvelopeSize> out) noexcept;

} // namespace idpath::wire
