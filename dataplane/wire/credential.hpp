#pragma once
/// The message credential (RFC 3652 section 2.2.4; handle-protocol.md section 1.9). idpath does
/// not verify signatures on the query path; it parses the structure so a malformed one is
/// rejected and a signed request can be counted, then passes over it.

#include <cstdint>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::wire {

struct CredentialView {
    std::uint8_t version = 0;
    std::uint8_t reserved = 0;
    std::uint16_t options = 0;
    ByteSpan signer_handle;
    std::uint32_t signer_index = 0; // CNRI >= 2.5: the session message counter
    ByteSpan type;                  // HS_SIGNED, HS_MAC, legacy HS_DSAPUBKEY
    ByteSpan digest_algorithm;      // inside SignedInfo
    ByteSpan signature;             // inside SignedInfo
};

/// Decodes the octets after CredentialLength (MessageView::credential); they must be consumed
/// exactly. An empty span is not a credential (the caller checks for that first).
Result<CredentialView, WireError> decode_credential(ByteSpan credential) noexcept;

} // namespace idpath::wire
