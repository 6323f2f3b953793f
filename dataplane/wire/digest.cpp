#include "dataplane/wire/digest.hpp"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose contexts are
// heap-allocated; the low-level API hashes on the stack, which the reply path needs.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdint>

#include "dataplane/wire/constants.hpp"

namespace idpath::wire {

static_assert(SHA256_DIGEST_LENGTH == kSha256Size);

void write_request_digest(ByteWriter& w, ByteSpan request_header_and_body) noexcept
{
    std::uint8_t* p = w.claim(kRequestDigestSize);
    if (!p)
        return;
    p[0] = static_cast<std::uint8_t>(DigestType::Sha256);
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, request_header_and_body.data(), request_header_and_body.size());
    SHA256_Final(p + 1, &ctx);
}

} // namespace idpath::wire
