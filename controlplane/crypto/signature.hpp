#pragma once
/// Signatures and MACs the Handle protocol's authentication uses (research/handle-protocol.md
/// sections 1.9, 1.15): RSA PKCS#1 v1.5 (and DSA) over SHA-256 or SHA-1 with HANDLE.NET's
/// algorithm names, and the HS_SECKEY answer. OpenSSL underneath. Any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/crypto/keys.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::crypto {

/// HANDLE.NET's name of the hash used: "SHA-256" (default), "SHA1", "SHA-1", "MD5".
/// Signs `data` with `key` (private): RSA PKCS#1 v1.5, or DSA.
Result<std::vector<std::uint8_t>, std::string> sign(const Key& key, std::string_view algorithm, ByteSpan data);
/// True when `signature` is `key`'s signature of `data` under `algorithm`; false for any
/// mismatch, unknown algorithm or malformed signature.
bool verify(const Key& key, std::string_view algorithm, ByteSpan data, ByteSpan signature) noexcept;

/// The HS_SECKEY answer to a challenge as HANDLE.NET's SecretKeyAuthenticationInfo makes it for
/// a challenge of protocol major.minor (research7 section 1): >= 2.7: 0x22 then String salt(16
/// random) | int4 10000 | int4 160 | String HMAC-SHA1(PBKDF2-HMAC-SHA1(secret, salt, 10000,
/// 160 bits), input); 2.1-2.6: 0x02 then SHA1(secret | input | secret).
std::vector<std::uint8_t> seckey_answer(ByteSpan secret, ByteSpan challenge_input, std::uint8_t major,
                                        std::uint8_t minor);
/// Checks an answer of any form HANDLE.NET accepts (0x22, 0x02, 0x01 MD5, 0x12 HMAC-SHA1,
/// 0x13 HMAC-SHA256), in constant time over the MAC; false for anything malformed.
bool seckey_verify(ByteSpan secret, ByteSpan challenge_input, ByteSpan answer) noexcept;

/// `n` octets from a cryptographic RNG (nonces, session ids).
std::vector<std::uint8_t> random_bytes(std::size_t n);

} // namespace idpath::crypto
