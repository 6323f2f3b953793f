#include "controlplane/replication/credential_sign.hpp"

#include "dataplane/wire/constants.hpp"
#include "dataplane/base/byte_append.hpp"

namespace idpath::replication {

namespace {

bool at_least_2_8(const wire::Envelope& env) noexcept
{
    // Major 5 marks a legacy 2.0 peer (envelope.hpp), not a newer protocol.
    if (env.major == 5)
        return false;
    return env.major > 2 || (env.major == 2 && env.minor >= 8);
}

constexpr std::string_view kSignedType = "HS_SIGNED";
constexpr std::size_t kMessageLengthOffset = 16;

} // namespace

std::vector<std::uint8_t> signed_data(const wire::Envelope& env, std::uint32_t session_counter,
                                      ByteSpan header_and_body)
{
    std::vector<std::uint8_t> out;
    out.reserve(16 + header_and_body.size());
    out.push_back(env.major);
    out.push_back(env.minor);
    if (at_least_2_8(env)) {
        out.push_back(env.suggested_major);
        out.push_back(env.suggested_minor);
    }
    append_be32(out, env.session_id);
    append_be32(out, env.request_id);
    append_be32(out, session_counter);
    out.insert(out.end(), header_and_body.begin(), header_and_body.end());
    return out;
}

std::vector<std::uint8_t> encode_signed_credential(std::string_view algorithm, ByteSpan signature,
                                                   std::uint32_t session_counter)
{
    std::vector<std::uint8_t> out;
    out.reserve(4 + 4 + 4 + 4 + kSignedType.size() + 4 + 8 + algorithm.size() + signature.size());
    out.push_back(0); // version
    out.push_back(0); // reserved
    out.push_back(0); // options
    out.push_back(0);
    append_string(out, ByteSpan{}); // signer handle: CNRI leaves it empty, the key is the server's
    append_be32(out, session_counter);
    append_string(out, as_bytes(kSignedType));
    append_be32(out, static_cast<std::uint32_t>(4 + algorithm.size() + 4 + signature.size()));
    append_string(out, as_bytes(algorithm));
    append_string(out, signature);
    return out;
}

std::vector<std::uint8_t> with_credential(ByteSpan message, ByteSpan credential)
{
    constexpr std::size_t kMin = wire::kEnvelopeSize + wire::kHeaderSize + wire::kCredentialLengthSize;
    // Not what MessageWriter::finish() makes: nothing to replace, so nothing is changed.
    if (message.size() < kMin || load_be32(message.data() + message.size() - 4) != 0)
        return {message.begin(), message.end()};
    std::vector<std::uint8_t> out;
    out.reserve(message.size() + credential.size());
    out.insert(out.end(), message.begin(), message.end() - 4);
    append_string(out, credential);
    store_be32(out.data() + kMessageLengthOffset, static_cast<std::uint32_t>(out.size() - wire::kEnvelopeSize));
    return out;
}

} // namespace idpath::replication
