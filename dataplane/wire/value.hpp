#pragma once
/// Handle values (RFC 3651 section 3.1; handle-protocol.md section 1.8.4).
///
/// ValueView decodes in place (no allocation, for the hot path and for walking value lists);
/// HandleValue owns its fields (control plane: loading, replication, idpath-dig).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/base/byte_writer.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::wire {

/// Fixed octets of a value besides its type, data and references:
/// index 4, timestamp 4, ttl type 1, ttl 4, permissions 1, type length 4, data length 4,
/// reference count 4.
inline constexpr std::size_t kValueFixedSize = 26;
/// Offset of the type String within an encoded value.
inline constexpr std::size_t kValueTypeOffset = 14;

struct ValueView {
    std::uint32_t index = 0;
    std::uint32_t timestamp = 0;
    std::uint8_t ttl_type = 0;
    std::uint32_t ttl = 0;
    std::uint8_t permissions = 0;
    ByteSpan type;
    ByteSpan data;
    std::uint32_t reference_count = 0;
    ByteSpan references; // reference_count x (String handle, int4 index), validated
    ByteSpan encoded;    // the whole value as it stood on the wire
};

/// Decodes one value at the reader's position and advances past it. Type and each reference
/// handle are limited to kMaxHandleLength octets, data to kMaxArraySize.
Result<ValueView, WireError> decode_value(ByteReader& r) noexcept;

struct Reference {
    std::string handle;
    std::uint32_t index = 0;
    bool operator==(const Reference&) const = default;
};

struct HandleValue {
    std::uint32_t index = 0;
    std::uint32_t timestamp = 0;
    TtlType ttl_type = TtlType::Relative;
    std::uint32_t ttl = 86400;
    std::uint8_t permissions = perm::kDefault;
    std::string type;
    std::vector<std::uint8_t> data;
    std::vector<Reference> references;
    bool operator==(const HandleValue&) const = default;
};

HandleValue to_owned(const ValueView& v);
/// Octets encode_value() writes for `v`.
std::size_t encoded_size(const HandleValue& v) noexcept;
void encode_value(ByteWriter& w, const HandleValue& v) noexcept;

/// Reads a value list: int4 count then that many values (count <= kMaxValues).
Result<std::vector<HandleValue>, WireError> decode_value_list(ByteReader& r);

/// Decodes exactly `count` values encoded back to back, filling `encoded` (TrailingBytes when
/// octets remain): a record as the table, the journal and replication streams hold it.
Result<std::vector<HandleValue>, WireError> decode_values(ByteSpan encoded, std::uint32_t count);

/// "rwr-" style rendering of permission bits: admin read, admin write, public read, public write.
std::string permissions_string(std::uint8_t permissions);

} // namespace idpath::wire
