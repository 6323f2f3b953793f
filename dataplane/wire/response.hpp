#pragma once
/// Bodies of non-resolution responses and the request-digest prefix
/// (handle-protocol.md sections 1.8.1, 1.8.5, 1.8.6, 1.8.7), and a dispatcher that decodes any
/// response body by (opcode, response code). Owning types: for clients and the control plane.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/errors.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/resolution.hpp"
#include "dataplane/wire/site_info.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::wire {

struct RequestDigest {
    DigestType type = DigestType::Sha256;
    std::vector<std::uint8_t> digest;
};

/// Reads the RD prefix: int1 hash type, then 16/20/32 octets for MD5/SHA-1/SHA-256, or a
/// length-prefixed digest for type 0 (legacy MD5). Other types are BadField.
Result<RequestDigest, WireError> decode_request_digest(ByteReader& r);

/// Error body: String message, optionally followed by DO-IRP 3.0's failing-index list.
struct ErrorBody {
    std::string message;
    std::vector<std::uint32_t> failed_indexes;
};
Result<ErrorBody, WireError> decode_error_body(ByteSpan body);
void encode_error_body(ByteWriter& w, std::string_view message) noexcept;

/// 302 SERVICE_REFERRAL / 303 PREFIX_REFERRAL: String referral handle, then (optionally, when
/// octets remain) a value list of service information.
struct Referral {
    std::string handle;
    std::vector<HandleValue> values;
};
Result<Referral, WireError> decode_referral_body(ByteSpan body);

/// 402 AUTHENTICATION_NEEDED: String nonce (after the digest prefix CNRI puts first).
struct Challenge {
    std::vector<std::uint8_t> nonce;
};

/// Any response body, decoded by what the header says it is.
struct DecodedResponse {
    std::optional<RequestDigest> digest; // present when the header has RD
    enum class Kind { Resolution, SiteInfo, Referral, Challenge, Error, Raw } kind = Kind::Raw;
    ResolutionResponse resolution;
    SiteInfo site_info;
    Referral referral;
    Challenge challenge;
    ErrorBody error;
    std::vector<std::uint8_t> raw; // other successful opcodes
};

Result<DecodedResponse, WireError> decode_response_body(const Header& h, ByteSpan body);

} // namespace idpath::wire
