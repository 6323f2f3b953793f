#include "dataplane/wire/response.hpp"

#include <utility>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/digest.hpp"
#include "dataplane/wire/detail.hpp"

namespace idpath::wire {

namespace {

constexpr std::size_t kMd5Size = 16;
constexpr std::size_t kSha1Size = 20;

std::vector<std::uint8_t> to_vector(ByteSpan b)
{
    return {b.begin(), b.end()};
}

Result<Challenge, WireError> decode_challenge_body(ByteSpan body)
{
    // Encoder.decodeChallenge (>= 2.1): String nonce; the digest prefix was read before.
    ByteReader r(body);
    const ByteSpan nonce = r.string(kMaxArraySize);
    if (!r.ok())
        return Err{reader_error(r)};
    if (!r.at_end())
        return Err{WireError::TrailingBytes};
    return Challenge{to_vector(nonce)};
}

} // namespace

Result<RequestDigest, WireError> decode_request_digest(ByteReader& r)
{
    // handle-protocol.md 1.8.1 / Encoder.decodeMessage.
    const std::uint8_t type = r.u8();
    if (!r.ok())
        return Err{reader_error(r)};
    RequestDigest d;
    std::size_t size = 0;
    switch (static_cast<DigestType>(type)) {
    case DigestType::Md5:
        size = kMd5Size;
        break;
    case DigestType::Sha1:
        size = kSha1Size;
        break;
    case DigestType::Sha256:
        size = kSha256Size;
        break;
    case DigestType::LegacyMd5: {
        // The "type" octet is really the high octet of an int4 length (CNRI steps back one
        // octet and reads a byte array), so the length is 0x00 followed by three more octets.
        const std::uint8_t b1 = r.u8();
        const std::uint16_t low = r.u16();
        if (!r.ok())
            return Err{reader_error(r)};
        size = (std::size_t{b1} << 16) | low;
        if (size > kMaxArraySize)
            return Err{WireError::LengthTooLarge};
        break;
    }
    default:
        return Err{WireError::BadField};
    }
    d.type = static_cast<DigestType>(type);
    const ByteSpan digest = r.bytes(size);
    if (!r.ok())
        return Err{reader_error(r)};
    d.digest = to_vector(digest);
    return d;
}

Result<ErrorBody, WireError> decode_error_body(ByteSpan body)
{
    // handle-protocol.md 1.8.6. An empty body is an empty message: HANDLE.NET reads the
    // CredentialLength 0 that follows as the String length, and legacy peers send nothing.
    ErrorBody out;
    if (body.empty())
        return out;
    ByteReader r(body);
    const ByteSpan message = r.string(kMaxArraySize);
    if (!r.ok())
        return Err{reader_error(r)};
    out.message.assign(as_string_view(message));
    if (r.at_end())
        return out;
    // DO-IRP 3.0 appends the indexes that failed (Wireshark packet-do-irp.c).
    const std::uint32_t count = r.u32();
    if (!r.ok())
        return Err{reader_error(r)};
    if (count > kMaxArraySize)
        return Err{WireError::LengthTooLarge};
    if (count > r.remaining() / 4)
        return Err{WireError::Truncated};
    out.failed_indexes.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i)
        out.failed_indexes.push_back(r.u32());
    if (!r.at_end())
        return Err{WireError::TrailingBytes};
    return out;
}

void encode_error_body(ByteWriter& w, std::string_view message) noexcept
{
    w.string(message);
}

Result<Referral, WireError> decode_referral_body(ByteSpan body)
{
    // handle-protocol.md 1.8.5 / Encoder.decodeServiceReferralResponse: values only when
    // octets remain after the handle.
    ByteReader r(body);
    auto handle = detail::read_handle(r, true);
    if (!handle)
        return Err{detail::error_of(handle)};
    Referral out;
    out.handle.assign(as_string_view(*handle));
    if (r.at_end())
        return out;
    auto values = decode_value_list(r);
    if (!values)
        return Err{detail::error_of(values)};
    if (!r.at_end())
        return Err{WireError::TrailingBytes};
    out.values = std::move(*values);
    return out;
}

Result<DecodedResponse, WireError> decode_response_body(const Header& h, ByteSpan body)
{
    if (h.is_request())
        return Err{WireError::NotAResponse};
    DecodedResponse out;
    ByteReader r(body);
    // Encoder.decodeMessage: RD in a response means every body starts with the digest.
    if (h.has(opflag::kReturnDigest)) {
        auto d = decode_request_digest(r);
        if (!d)
            return Err{detail::error_of(d)};
        out.digest = std::move(*d);
    }
    const ByteSpan rest = r.rest();

    using Kind = DecodedResponse::Kind;
    switch (static_cast<ResponseCode>(h.response_code)) {
    case ResponseCode::Success:
        if (h.opcode == static_cast<std::uint32_t>(OpCode::Resolution)) {
            auto res = decode_resolution_response(rest);
            if (!res)
                return Err{detail::error_of(res)};
            out.kind = Kind::Resolution;
            out.resolution = std::move(*res);
        } else if (h.opcode == static_cast<std::uint32_t>(OpCode::GetSiteInfo)) {
            // The raw HS_SITE record fills the body (handle-protocol.md 1.8.7).
            auto site = decode_site_info(rest);
            if (!site)
                return Err{detail::error_of(site)};
            out.kind = Kind::SiteInfo;
            out.site_info = std::move(*site);
        } else {
            out.kind = Kind::Raw;
            out.raw = to_vector(rest);
        }
        return out;
    case ResponseCode::ServiceReferral:
    case ResponseCode::PrefixReferral: {
        // 303 from a pre-2.5 peer meant SERVER_BACKUP; such peers are not expected (1.7 note).
        auto ref = decode_referral_body(rest);
        if (!ref)
            return Err{detail::error_of(ref)};
        out.kind = Kind::Referral;
        out.referral = std::move(*ref);
        return out;
    }
    case ResponseCode::AuthenticationNeeded: {
        auto ch = decode_challenge_body(rest);
        if (!ch)
            return Err{detail::error_of(ch)};
        out.kind = Kind::Challenge;
        out.challenge = std::move(*ch);
        return out;
    }
    default: {
        auto err = decode_error_body(rest);
        if (!err)
            return Err{detail::error_of(err)};
        out.kind = Kind::Error;
        out.error = std::move(*err);
        return out;
    }
    }
}

} // namespace idpath::wire
