#include "controlplane/crypto/handle_net_key_crypt.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>

#include "controlplane/crypto/openssl_error.hpp"
#include "dataplane/base/byte_append.hpp"
#include "dataplane/base/byte_reader.hpp"

namespace idpath::crypto {

namespace {

// Bounds on what a file may ask for, so a damaged or hostile file cannot make us spin: 9.x
// writes 10000 iterations and 128-bit keys.
constexpr std::uint32_t kMaxIterations = 10'000'000;

const EVP_CIPHER* aes_cbc(std::uint32_t key_bits)
{
    switch (key_bits) {
    case 128: return EVP_aes_128_cbc();
    case 192: return EVP_aes_192_cbc();
    case 256: return EVP_aes_256_cbc();
    default: return nullptr;
    }
}

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};

/// PBKDF2WithHmacSHA1 over the passphrase's UTF-8 octets, as Java's PBEKeySpec hands them.
std::optional<std::vector<std::uint8_t>> derive(std::string_view passphrase, ByteSpan salt, std::uint32_t iterations,
                                                std::uint32_t key_bits)
{
    std::vector<std::uint8_t> key(key_bits / 8);
    if (PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()), salt.data(),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha1(),
                          static_cast<int>(key.size()), key.data()) != 1)
        return std::nullopt;
    return key;
}

Result<std::vector<std::uint8_t>, std::string> run_cipher(bool encrypt, const EVP_CIPHER* cipher,
                                                         const std::vector<std::uint8_t>& key, ByteSpan iv,
                                                         ByteSpan in)
{
    const std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
    if (!ctx || static_cast<int>(iv.size()) != EVP_CIPHER_get_iv_length(cipher) ||
        EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data(), encrypt ? 1 : 0) != 1)
        return Err("AES: " + openssl_errors());
    std::vector<std::uint8_t> out(in.size() + static_cast<std::size_t>(EVP_CIPHER_get_block_size(cipher)));
    int n = 0, tail = 0;
    if (EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1 ||
        EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
        OPENSSL_cleanse(out.data(), out.size());
        ERR_clear_error();
        return Err(std::string("bad padding"));
    }
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
}

} // namespace

Result<std::vector<std::uint8_t>, std::string> decrypt_handle_net_key(std::uint32_t enc_type, ByteSpan payload,
                                                                     std::string_view passphrase)
{
    if (enc_type != kHandleNetEncryptPbkdf2Aes)
        return Err("HANDLE.NET key encrypted with the older type " + std::to_string(enc_type) +
                   " (DES); only type 4 (PBKDF2-AES) is read: rewrite it with hdl-convert-key");
    // research7: unconfirmed against a key file written by a real 9.x (layout from the source).
    // int4-length-prefixed octet strings, as HANDLE.NET's Encoder writes them.
    ByteReader f(payload);
    const ByteSpan salt = f.string(payload.size());
    const std::uint32_t iterations = f.u32();
    const std::uint32_t key_bits = f.u32();
    const ByteSpan iv = f.string(payload.size());
    const ByteSpan ciphertext = f.string(payload.size());
    if (!f.ok())
        return Err(std::string("truncated HANDLE.NET encrypted key"));
    const EVP_CIPHER* cipher = aes_cbc(key_bits);
    if (cipher == nullptr)
        return Err("HANDLE.NET encrypted key: unsupported AES key size " + std::to_string(key_bits));
    if (iterations == 0 || iterations > kMaxIterations)
        return Err("HANDLE.NET encrypted key: implausible PBKDF2 iteration count " + std::to_string(iterations));
    auto key = derive(passphrase, salt, iterations, key_bits);
    if (!key)
        return Err("PBKDF2: " + openssl_errors());
    auto plain = run_cipher(false, cipher, *key, iv, ciphertext);
    OPENSSL_cleanse(key->data(), key->size());
    if (!plain)
        return Err(std::string("wrong passphrase (or a damaged key file): the key does not decrypt"));
    return plain;
}

Result<std::vector<std::uint8_t>, std::string> encrypt_handle_net_key(ByteSpan record, std::string_view passphrase,
                                                                     ByteSpan salt, std::uint32_t iterations,
                                                                     std::uint32_t key_bits, ByteSpan iv)
{
    const EVP_CIPHER* cipher = aes_cbc(key_bits);
    if (cipher == nullptr || iterations == 0)
        return Err(std::string("unsupported AES key size or iteration count"));
    auto key = derive(passphrase, salt, iterations, key_bits);
    if (!key)
        return Err("PBKDF2: " + openssl_errors());
    auto sealed = run_cipher(true, cipher, *key, iv, record);
    OPENSSL_cleanse(key->data(), key->size());
    if (!sealed)
        return Err(sealed.error());
    std::vector<std::uint8_t> out;
    append_be32(out, kHandleNetEncryptPbkdf2Aes);
    append_string(out, salt);
    append_be32(out, iterations);
    append_be32(out, key_bits);
    append_string(out, iv);
    append_string(out, ByteSpan(*sealed));
    return out;
}

} // namespace idpath::crypto
