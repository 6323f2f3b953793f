#pragma once
/// Signed messages (research/handle-protocol.md section 1.9): the octets a HANDLE.NET 9.x server
/// signs for a message's HS_SIGNED credential, and the credential's encoding. Pure; the
/// signature itself comes from crypto/signature.hpp.

#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::replication {

/// What HANDLE.NET (>= 2.6) signs: protocol major, minor, [suggested major, minor when >= 2.8],
/// int4 session id, int4 request id, int4 session counter, then the header and body octets.
std::vector<std::uint8_t> signed_data(const wire::Envelope& env, std::uint32_t session_counter,
                                      ByteSpan header_and_body);

/// The credential after CredentialLength: version 0, reserved 0, options 0, String signer
/// handle (empty, as CNRI writes), int4 signer index (the session counter), String type
/// ("HS_SIGNED"), int4 SignedInfo length, String digest algorithm ("SHA-256"), String signature.
std::vector<std::uint8_t> encode_signed_credential(std::string_view algorithm, ByteSpan signature,
                                                   std::uint32_t session_counter);

/// A complete message (envelope + header + body + credential) with `credential` appended in
/// place of the trailing CredentialLength 0 that wire::MessageWriter::finish() wrote, and the
/// envelope's MessageLength fixed up. `message` is what finish() produced.
std::vector<std::uint8_t> with_credential(ByteSpan message, ByteSpan credential);

} // namespace idpath::replication
