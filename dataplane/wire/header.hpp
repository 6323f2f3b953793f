#pragma once
/// The 24-octet message header (RFC 3652 section 2.2.2; handle-protocol.md section 1.4).

#include <cstdint>
#include <span>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::wire {

struct Header {
    std::uint32_t opcode = 0;
    std::uint32_t response_code = 0; // 0 in every request
    std::uint32_t op_flags = 0;      // opflag::*
    std::uint16_t site_serial = 0;   // SiteInfoSerialNumber; 0xFFFF = unknown
    std::uint8_t recursion_count = 0;
    std::uint32_t expiration = 0;    // Unix seconds
    std::uint32_t body_length = 0;

    bool has(std::uint32_t flag) const noexcept { return (op_flags & flag) != 0; }
    bool is_request() const noexcept { return response_code == 0; }
};

bool operator==(const Header&, const Header&) noexcept;

/// Decodes the first 24 octets of `in`; the reserved octet is ignored.
Result<Header, WireError> decode_header(ByteSpan in) noexcept;

void encode_header(const Header& h, std::span<std::uint8_t, kHeaderSize> out) noexcept;

} // namespace idpath::wire
