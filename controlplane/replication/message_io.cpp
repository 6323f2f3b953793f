#include "controlplane/replication/message_io.hpp"

#include <array>
#include <span>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::replication {

Result<ReceivedMessage, std::string> read_message(crypto::ByteStream& s, int timeout_ms, std::size_t max_message)
{
    std::array<std::uint8_t, wire::kEnvelopeSize> env_bytes{};
    if (auto r = s.read_exact(env_bytes, timeout_ms); !r)
        return Err(std::string("reading envelope: ") + r.error());
    auto env = wire::decode_envelope(env_bytes);
    if (!env)
        return Err(std::string("malformed envelope: ") + std::string(wire::to_string(env.error())));
    if (env->truncated() || env->sequence != 0)
        return Err(std::string("chunked message refused on a replication connection"));
    if (env->message_length < wire::kHeaderSize)
        return Err("message of " + std::to_string(env->message_length) + " octets is shorter than a header");
    if (env->message_length > max_message)
        return Err("message of " + std::to_string(env->message_length) + " octets exceeds " + std::to_string(max_message));
    ReceivedMessage m;
    m.envelope = *env;
    m.message.resize(env->message_length);
    if (auto r = s.read_exact(m.message, timeout_ms); !r)
        return Err(std::string("reading message: ") + r.error());
    return m;
}

std::vector<std::uint8_t> build_message(wire::Envelope env, wire::Header hdr, ByteSpan body)
{
    const std::size_t message_length = wire::kHeaderSize + body.size() + 4;
    std::vector<std::uint8_t> out(wire::kEnvelopeSize + message_length);
    env.message_length = static_cast<std::uint32_t>(message_length);
    hdr.body_length = static_cast<std::uint32_t>(body.size());
    wire::encode_envelope(env, std::span<std::uint8_t, wire::kEnvelopeSize>(out.data(), wire::kEnvelopeSize));
    wire::encode_header(hdr, std::span<std::uint8_t, wire::kHeaderSize>(out.data() + wire::kEnvelopeSize,
                                                                         wire::kHeaderSize));
    if (!body.empty())
        std::memcpy(out.data() + wire::kEnvelopeSize + wire::kHeaderSize, body.data(), body.size());
    // CredentialLength 0: unsigned; credential_sign.hpp's with_credential() replaces it.
    store_be32(out.data() + out.size() - 4, 0);
    return out;
}

ByteSpan header_and_body(ByteSpan message)
{
    if (message.size() < wire::kHeaderSize)
        return {};
    const std::uint32_t body_length = load_be32(message.data() + 20);
    const std::size_t n = wire::kHeaderSize + std::size_t{body_length};
    return n <= message.size() ? message.first(n) : ByteSpan{};
}

} // namespace idpath::replication
