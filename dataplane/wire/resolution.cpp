#include "dataplane/wire/resolution.hpp"

#include <utility>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/detail.hpp"

namespace idpath::wire {

ByteSpan peek_resolution_handle(ByteSpan datagram) noexcept
{
    // handle-protocol.md 1.2-1.4: envelope (sequence number at octet 12), then the header with
    // its opCode first, then the body, which for RESOLUTION opens with the handle as a String.
    constexpr std::size_t kBody = kEnvelopeSize + kHeaderSize;
    if (datagram.size() < kBody + 4)
        return {};
    if (load_be32(datagram.data() + 12) != 0)
        return {};
    if (load_be32(datagram.data() + kEnvelopeSize) != static_cast<std::uint32_t>(OpCode::Resolution))
        return {};
    const std::uint32_t length = load_be32(datagram.data() + kBody);
    if (length == 0 || length > kMaxHandleLength || length > datagram.size() - kBody - 4)
        return {};
    return datagram.subspan(kBody + 4, length);
}

Result<ResolutionRequest, WireError> decode_resolution_request(ByteSpan body) noexcept
{
    // handle-protocol.md 1.8.2: String handle, int4 list of indexes, String list of types.
    ByteReader r(body);
    ResolutionRequest req;
    auto handle = detail::read_handle(r, false);
    if (!handle)
        return Err{detail::error_of(handle)};
    req.handle = *handle;

    req.index_count = r.u32();
    if (r.ok() && req.index_count > kMaxArraySize)
        return Err{WireError::LengthTooLarge};
    req.indexes = r.bytes(std::size_t{req.index_count} * 4);

    req.type_count = r.u32();
    if (r.ok() && req.type_count > kMaxArraySize)
        return Err{WireError::LengthTooLarge};
    if (r.ok() && req.type_count > r.remaining() / 4)
        return Err{WireError::Truncated};
    const ByteSpan types_from = r.rest();
    const std::size_t types_start = r.position();
    for (std::uint32_t i = 0; i < req.type_count && r.ok(); ++i)
        (void)r.string(kMaxHandleLength);
    if (!r.ok())
        return Err{reader_error(r)};
    if (!r.at_end())
        return Err{WireError::TrailingBytes};
    req.types = types_from.first(r.position() - types_start);
    return req;
}

void encode_resolution_request(ByteWriter& w, std::string_view handle,
                               std::span<const std::uint32_t> indexes,
                               std::span<const std::string_view> types) noexcept
{
    w.string(handle);
    w.u32(static_cast<std::uint32_t>(indexes.size()));
    for (const std::uint32_t i : indexes)
        w.u32(i);
    w.u32(static_cast<std::uint32_t>(types.size()));
    for (const std::string_view t : types)
        w.string(t);
}

Result<ResolutionResponse, WireError> decode_resolution_response(ByteSpan body)
{
    // handle-protocol.md 1.8.3: String handle, int4 value count, values back to back.
    ByteReader r(body);
    auto handle = detail::read_handle(r, true);
    if (!handle)
        return Err{detail::error_of(handle)};
    auto values = decode_value_list(r);
    if (!values)
        return Err{detail::error_of(values)};
    if (!r.at_end())
        return Err{WireError::TrailingBytes};
    ResolutionResponse out;
    out.handle.assign(as_string_view(*handle));
    out.values = std::move(*values);
    return out;
}

} // namespace idpath::wire
