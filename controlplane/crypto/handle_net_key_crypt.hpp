#pragma once
/// HANDLE.NET's passphrase-encrypted private key files (docs/handle-net-replication-notes.md
/// section 6): `int4 encType | payload`, where the payload decrypts to the same key record an
/// unencrypted file (encType 1) carries. hdl-setup and hdl-keygen encrypt by default, so an
/// operator's admpriv.bin / privkey.bin is usually in this form.
/// Supported: type 4, PBKDF2WithHmacSHA1 + AES-CBC-PKCS5 (what 9.x writes). The older DES forms
/// (0, 2, 3) are refused by name: hdl-convert-key rewrites them.
/// Thread-safety: pure (OpenSSL EVP underneath).

#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::crypto {

inline constexpr std::uint32_t kHandleNetEncryptNone = 1;
inline constexpr std::uint32_t kHandleNetEncryptPbkdf2Aes = 4;

/// The key record inside an encrypted HANDLE.NET key file's `payload` (the octets after the
/// int4 type). A wrong passphrase is reported as such (the padding or the record does not
/// survive decryption).
Result<std::vector<std::uint8_t>, std::string> decrypt_handle_net_key(std::uint32_t enc_type, ByteSpan payload,
                                                                     std::string_view passphrase);

/// The inverse for type 4, with the given salt, iteration count, key size and IV: for tests and
/// for writing keys an operator can hand back to HANDLE.NET tools.
Result<std::vector<std::uint8_t>, std::string> encrypt_handle_net_key(ByteSpan record, std::string_view passphrase,
                                                                     ByteSpan salt, std::uint32_t iterations,
                                                                     std::uint32_t key_bits, ByteSpan iv);

} // namespace idpath::crypto
