#pragma once
/// The request digest a response carries when the request set RD (handle-protocol.md 1.8.1).
/// HANDLE.NET 9.2 answers with SHA-256 (hash type 3); so does idpath.

#include <cstddef>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/base/bytes.hpp"

namespace idpath::wire {

inline constexpr std::size_t kSha256Size = 32;
/// Octets write_request_digest() adds: the type byte and a SHA-256.
inline constexpr std::size_t kRequestDigestSize = 1 + kSha256Size;

/// Writes int1 3 then SHA-256(header_and_body) of the request. No allocation.
void write_request_digest(ByteWriter& w, ByteSpan request_header_and_body) noexcept;

} // namespace idpath::wire
