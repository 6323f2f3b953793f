#pragma once
/// Internal to dataplane/wire: helpers shared by the decoders.

#include <cstdint>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::wire::detail {

/// The error of a failed Result (callers test ok() first).
template <class T>
WireError error_of(const Result<T, WireError>& r) noexcept
{
    return r.error();
}

/// Reads int4 length + octets of a handle: HandleTooLong above kMaxHandleLength (Common.java
/// MAX_HANDLE_LENGTH), EmptyHandle for length 0 unless `allow_empty`, Truncated otherwise.
inline Result<ByteSpan, WireError> read_handle(ByteReader& r, bool allow_empty) noexcept
{
    const std::uint32_t len = r.u32();
    if (!r.ok())
        return Err{WireError::Truncated};
    if (len > kMaxHandleLength)
        return Err{WireError::HandleTooLong};
    if (len == 0 && !allow_empty)
        return Err{WireError::EmptyHandle};
    const ByteSpan handle = r.bytes(len);
    if (!r.ok())
        return Err{WireError::Truncated};
    return handle;
}

} // namespace idpath::wire::detail
