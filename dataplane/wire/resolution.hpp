#pragma once
/// RESOLUTION request and response bodies (RFC 3652 section 3.2; handle-protocol.md 1.8.2-1.8.3).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/base/byte_writer.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/errors.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::wire {

/// A decoded request body; spans point into the input, lists are validated so iterating them
/// cannot fail.
struct ResolutionRequest {
    ByteSpan handle;
    std::uint32_t index_count = 0;
    ByteSpan indexes; // index_count x int4
    std::uint32_t type_count = 0;
    ByteSpan types;   // type_count x String

    std::uint32_t index_at(std::uint32_t i) const noexcept { return load_be32(indexes.data() + 4 * i); }
    bool unfiltered() const noexcept { return index_count == 0 && type_count == 0; }
};

/// Walks the validated type list of a ResolutionRequest.
class TypeListIterator {
public:
    explicit TypeListIterator(const ResolutionRequest& req) noexcept : r_(req.types) {}
    /// Returns false at the end.
    bool next(ByteSpan& type) noexcept
    {
        if (r_.at_end())
            return false;
        type = r_.string(r_.remaining());
        return r_.ok();
    }

private:
    ByteReader r_;
};

/// Decodes a RESOLUTION request body. Handle: 1..kMaxHandleLength octets; index and type counts
/// at most kMaxArraySize and within the body; each type at most kMaxHandleLength; no trailing
/// octets.
Result<ResolutionRequest, WireError> decode_resolution_request(ByteSpan body) noexcept;

/// The handle of a one-datagram RESOLUTION request (an envelope, then a message whose body
/// starts with the handle), read without decoding anything else: a hint for prefetching table
/// lookups a burst ahead, never a substitute for decode_frame(). Empty for any other datagram
/// (a later piece of a multi-datagram request, another opcode) or a handle that does not fit.
ByteSpan peek_resolution_handle(ByteSpan datagram) noexcept;

void encode_resolution_request(ByteWriter& w, std::string_view handle,
                               std::span<const std::uint32_t> indexes,
                               std::span<const std::string_view> types) noexcept;

struct ResolutionResponse {
    std::string handle;
    std::vector<HandleValue> values;
};

/// Decodes a RESOLUTION response body, the request-digest prefix already consumed.
Result<ResolutionResponse, WireError> decode_resolution_response(ByteSpan body);

} // namespace idpath::wire
