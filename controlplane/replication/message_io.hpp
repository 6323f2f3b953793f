#pragma once
/// One Handle message over a replication connection (crypto::ByteStream): a TCP frame is the
/// 20-octet envelope and MessageLength octets (HANDLE.NET never splits on TCP; a TC chunked
/// message is refused here: replication peers do not send them). Building messages is
/// dataplane/wire's MessageWriter; signing them credential_sign.hpp.

#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/crypto/byte_stream.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/header.hpp"

namespace idpath::replication {

struct ReceivedMessage {
    wire::Envelope envelope;
    std::vector<std::uint8_t> message; // header + body + credential (MessageLength octets)
};

/// Reads one frame within `timeout_ms`; a MessageLength above `max_message` or a malformed
/// envelope is an error ("message of 9000000 octets exceeds 262144").
Result<ReceivedMessage, std::string> read_message(crypto::ByteStream& s, int timeout_ms,
                                                 std::size_t max_message = 1u << 20);

/// Builds envelope + header + body + CredentialLength 0: the envelope's MessageLength and the
/// header's BodyLength are filled in. `env.message_length` and `hdr.body_length` are ignored.
std::vector<std::uint8_t> build_message(wire::Envelope env, wire::Header hdr, ByteSpan body);

/// The header + body octets of a built or received message (what a request digest covers):
/// `message` is MessageLength octets (no envelope).
ByteSpan header_and_body(ByteSpan message);

} // namespace idpath::replication
