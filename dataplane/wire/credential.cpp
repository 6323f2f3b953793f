#include "dataplane/wire/credential.hpp"

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::wire {

Result<CredentialView, WireError> decode_credential(ByteSpan credential) noexcept
{
    // handle-protocol.md 1.9, as AbstractMessage.signMessage writes it.
    ByteReader r(credential);
    CredentialView c;
    c.version = r.u8();
    c.reserved = r.u8();
    c.options = r.u16();
    c.signer_handle = r.string(kMaxHandleLength);
    c.signer_index = r.u32();
    c.type = r.string(kMaxHandleLength);
    const ByteSpan signed_info = r.string(kMaxArraySize);
    if (!r.ok())
        return Err{reader_error(r)};
    if (!r.at_end())
        return Err{WireError::TrailingBytes};

    // SignedInfo: String digest algorithm, String signature, nothing else.
    ByteReader s(signed_info);
    c.digest_algorithm = s.string(kMaxHandleLength);
    c.signature = s.string(kMaxArraySize);
    if (!s.ok())
        return Err{reader_error(s)};
    if (!s.at_end())
        return Err{WireError::TrailingBytes};
    return c;
}

} // namespace idpath::wire
