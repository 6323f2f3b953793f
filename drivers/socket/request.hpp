#pragma once
/// Encoding the requests a Handle client sends, byte for byte as HANDLE.NET 9.x's Java client
/// does (shared/vectors/README.md): envelope 2.11 suggesting 2.11, header, body, and a zero
/// CredentialLength. For idpath-dig, tests and load generators; not on any serving path.
/// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::socket {

/// HANDLE.NET's client defaults: recursive, cache-certify, public-only (REC | CA | PO).
inline constexpr std::uint32_t kDefaultClientFlags =
    wire::opflag::kRecursive | wire::opflag::kCacheCertify | wire::opflag::kPublicOnly;

struct RequestSpec {
    std::uint32_t opcode = static_cast<std::uint32_t>(wire::OpCode::Resolution);
    std::string handle;
    /// RESOLUTION only: the index and type filters (empty: all values).
    std::vector<std::uint32_t> indexes;
    std::vector<std::string> types;
    std::uint32_t op_flags = kDefaultClientFlags;
    std::uint32_t request_id = 0;
    std::uint32_t session_id = 0;
    /// ExpirationTime, Unix seconds (HANDLE.NET: now + 12 h).
    std::uint32_t expiration = 0;
    std::uint16_t site_serial = 0;
    std::uint8_t recursion_count = 0;
};

/// Envelope + message of `spec`. RESOLUTION carries handle, index list and type list; every
/// other opcode the handle alone (HANDLE.NET's GenericRequest). Fails when the handle or the
/// message exceed the protocol's limits.
Result<std::vector<std::uint8_t>, std::string> encode_request(const RequestSpec& spec);

/// The header and body of an encoded request (what a request digest covers); empty if
/// `request` is shorter than its header says.
ByteSpan request_header_and_body(ByteSpan request) noexcept;

} // namespace idpath::socket
