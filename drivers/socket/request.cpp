#include "drivers/socket/request.hpp"

#include <string_view>

#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"

namespace idpath::socket {

Result<std::vector<std::uint8_t>, std::string> encode_request(const RequestSpec& spec)
{
    if (spec.handle.size() > wire::kMaxHandleLength)
        return Err{"handle longer than " + std::to_string(wire::kMaxHandleLength) + " octets"};
    const bool resolution = spec.opcode == static_cast<std::uint32_t>(wire::OpCode::Resolution);
    std::size_t size = wire::kEnvelopeSize + wire::kHeaderSize + wire::kCredentialLengthSize + 4 +
                       spec.handle.size();
    std::vector<std::string_view> types;
    if (resolution) {
        size += 4 + 4 * spec.indexes.size() + 4;
        for (const std::string& t : spec.types) {
            size += 4 + t.size();
            types.emplace_back(t);
        }
    }
    if (size - wire::kEnvelopeSize > wire::kMaxMessageLength)
        return Err{std::string("request longer than the protocol's 256 KiB limit")};

    std::vector<std::uint8_t> out(size);
    wire::MessageWriter writer(out);
    if (resolution)
        wire::encode_resolution_request(writer.body(), spec.handle, spec.indexes, types);
    else
        writer.body().string(std::string_view(spec.handle));

    // HANDLE.NET 9.x writes its own version as the suggested one (envelope octets 2-3: 02 0b).
    wire::Envelope env;
    env.suggested_major = wire::kImplMajor;
    env.suggested_minor = wire::kImplMinor;
    env.session_id = spec.session_id;
    env.request_id = spec.request_id;
    wire::Header hdr;
    hdr.opcode = spec.opcode;
    hdr.op_flags = spec.op_flags;
    hdr.site_serial = spec.site_serial;
    hdr.recursion_count = spec.recursion_count;
    hdr.expiration = spec.expiration;
    const std::size_t written = writer.finish(env, hdr);
    if (written == 0)
        return Err{std::string("request does not fit the protocol's limits")};
    out.resize(written);
    return out;
}

ByteSpan request_header_and_body(ByteSpan request) noexcept
{
    constexpr std::size_t kBodyLengthAt = wire::kEnvelopeSize + 20;
    if (request.size() < wire::kEnvelopeSize + wire::kHeaderSize)
        return {};
    const std::size_t body = load_be32(request.data() + kBodyLengthAt);
    if (body > request.size() - wire::kEnvelopeSize - wire::kHeaderSize)
        return {};
    return request.subspan(wire::kEnvelopeSize, wire::kHeaderSize + body);
}

} // namespace idpath::socket
