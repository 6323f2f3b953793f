#include "controlplane/crypto/signature.hpp"
#include "controlplane/crypto/openssl_error.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <optional>

#include "dataplane/base/byte_append.hpp"

namespace idpath::crypto {

namespace {

constexpr std::uint8_t kMd5 = 0x01;
constexpr std::uint8_t kSha1 = 0x02;
constexpr std::uint8_t kHmacSha1 = 0x12;
constexpr std::uint8_t kHmacSha256 = 0x13;
constexpr std::uint8_t kPbkdf2HmacSha1 = 0x22;
constexpr std::size_t kSaltSize = 16;
constexpr std::uint32_t kIterations = 10000;
constexpr std::uint32_t kKeyBits = 160;
// An answer names its own PBKDF2 cost; a bound keeps a forged one from burning a core.
constexpr std::uint32_t kMaxIterations = 1000000;

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z')
            x = static_cast<char>(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z')
            y = static_cast<char>(y - 'a' + 'A');
        if (x != y)
            return false;
    }
    return true;
}

/// HANDLE.NET's hash names, and the one-octet ids older peers send in their place.
const EVP_MD* digest_for(std::string_view algorithm)
{
    if (iequals(algorithm, "SHA-256") || iequals(algorithm, "SHA256") || algorithm == std::string_view("\x03", 1))
        return EVP_sha256();
    if (iequals(algorithm, "SHA1") || iequals(algorithm, "SHA-1") || algorithm == std::string_view("\x02", 1))
        return EVP_sha1();
    if (iequals(algorithm, "MD5") || algorithm == std::string_view("\x01", 1))
        return EVP_md5();
    return nullptr;
}

std::vector<std::uint8_t> digest(const EVP_MD* md, std::initializer_list<ByteSpan> parts)
{
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, md, nullptr) == 1;
    for (const ByteSpan p : parts)
        ok = ok && EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    out.resize(ok ? len : 0);
    return out;
}

std::vector<std::uint8_t> hmac(const EVP_MD* md, ByteSpan key, ByteSpan data)
{
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    // HMAC() rejects a null key pointer even at length 0.
    static const std::uint8_t empty = 0;
    if (HMAC(md, key.empty() ? &empty : key.data(), static_cast<int>(key.size()), data.data(), data.size(),
             out.data(), &len) == nullptr)
        len = 0;
    out.resize(len);
    return out;
}

/// The password octets as Java's PBKDF2WithHmacSHA1 sees them: HANDLE.NET widens each octet to
/// a char, and SunJCE encodes the chars as UTF-8.
// research7: unconfirmed: the octet->char->UTF-8 widening is JCE behaviour, not read in CNRI code.
std::vector<std::uint8_t> java_password(ByteSpan secret)
{
    std::vector<std::uint8_t> out;
    out.reserve(secret.size() * 2);
    for (const std::uint8_t b : secret) {
        if (b < 0x80) {
            out.push_back(b);
        } else {
            out.push_back(static_cast<std::uint8_t>(0xC0 | (b >> 6)));
            out.push_back(static_cast<std::uint8_t>(0x80 | (b & 0x3F)));
        }
    }
    return out;
}

std::vector<std::uint8_t> pbkdf2_mac(ByteSpan secret, ByteSpan salt, std::uint32_t iterations, std::uint32_t key_bits,
                                     ByteSpan input)
{
    std::vector<std::uint8_t> password = java_password(secret);
    std::vector<std::uint8_t> dk(key_bits / 8);
    const int ok = PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()), static_cast<int>(password.size()),
                                     salt.data(), static_cast<int>(salt.size()), static_cast<int>(iterations),
                                     EVP_sha1(), static_cast<int>(dk.size()), dk.data());
    OPENSSL_cleanse(password.data(), password.size());
    if (ok != 1)
        return {};
    auto mac = hmac(EVP_sha1(), dk, input);
    OPENSSL_cleanse(dk.data(), dk.size());
    return mac;
}

bool equal_mac(ByteSpan expected, ByteSpan got) noexcept
{
    return !expected.empty() && expected.size() == got.size() &&
           CRYPTO_memcmp(expected.data(), got.data(), got.size()) == 0;
}

/// The 0x22 form after its first octet: String salt | int4 iterations | int4 key bits | String mac.
bool verify_pbkdf2(ByteSpan secret, ByteSpan input, ByteSpan rest)
{
    std::size_t pos = 0;
    auto int4 = [&]() -> std::optional<std::uint32_t> {
        if (rest.size() - pos < 4)
            return std::nullopt;
        const std::uint32_t v = load_be32(rest.data() + pos);
        pos += 4;
        return v;
    };
    auto string = [&]() -> std::optional<ByteSpan> {
        const auto n = int4();
        if (!n || rest.size() - pos < *n)
            return std::nullopt;
        const ByteSpan s = rest.subspan(pos, *n);
        pos += *n;
        return s;
    };
    const auto salt = string();
    const auto iterations = int4();
    const auto key_bits = int4();
    const auto mac = string();
    if (!salt || !iterations || !key_bits || !mac || pos != rest.size())
        return false;
    if (*iterations == 0 || *iterations > kMaxIterations || *key_bits == 0 || *key_bits % 8 != 0 || *key_bits > 1024)
        return false;
    return equal_mac(pbkdf2_mac(secret, *salt, *iterations, *key_bits, input), *mac);
}

} // namespace

Result<std::vector<std::uint8_t>, std::string> sign(const Key& key, std::string_view algorithm, ByteSpan data)
{
    if (!key || !key.is_private())
        return Err(std::string("signing needs a private key"));
    const EVP_MD* md = digest_for(algorithm);
    if (md == nullptr)
        return Err("unknown signature hash \"" + std::string(algorithm) + "\"");
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::vector<std::uint8_t> sig;
    std::size_t len = 0;
    bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, md, nullptr, key.get()) == 1 &&
              EVP_DigestSign(ctx, nullptr, &len, data.data(), data.size()) == 1;
    if (ok) {
        sig.resize(len);
        ok = EVP_DigestSign(ctx, sig.data(), &len, data.data(), data.size()) == 1;
        sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return Err("signing failed: " + openssl_errors());
    return sig;
}

bool verify(const Key& key, std::string_view algorithm, ByteSpan data, ByteSpan signature) noexcept
{
    const EVP_MD* md = digest_for(algorithm);
    if (!key || md == nullptr || signature.empty())
        return false;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key.get()) == 1 &&
                    EVP_DigestVerify(ctx, signature.data(), signature.size(), data.data(), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

std::vector<std::uint8_t> seckey_answer(ByteSpan secret, ByteSpan challenge_input, std::uint8_t major,
                                        std::uint8_t minor)
{
    const auto at_least = [&](int ma, int mi) { return major > ma || (major == ma && minor >= mi); };
    std::vector<std::uint8_t> out;
    if (at_least(2, 7)) {
        const std::vector<std::uint8_t> salt = random_bytes(kSaltSize);
        out.push_back(kPbkdf2HmacSha1);
        append_string(out, salt);
        append_be32(out, kIterations);
        append_be32(out, kKeyBits);
        append_string(out, pbkdf2_mac(secret, salt, kIterations, kKeyBits, challenge_input));
    } else if (at_least(2, 1)) {
        out.push_back(kSha1);
        const auto d = digest(EVP_sha1(), {secret, challenge_input, secret});
        out.insert(out.end(), d.begin(), d.end());
    } else {
        // Before 2.1 the answer is the bare MD5, with no form octet.
        out = digest(EVP_md5(), {secret, challenge_input, secret});
    }
    return out;
}

bool seckey_verify(ByteSpan secret, ByteSpan challenge_input, ByteSpan answer) noexcept
{
    try {
        // The bare pre-2.1 MD5 is 16 octets, a length no prefixed form has.
        if (answer.size() == 16)
            return equal_mac(digest(EVP_md5(), {secret, challenge_input, secret}), answer);
        if (answer.empty())
            return false;
        const ByteSpan rest = answer.subspan(1);
        switch (answer[0]) {
        case kPbkdf2HmacSha1:
            return verify_pbkdf2(secret, challenge_input, rest);
        case kSha1:
            return equal_mac(digest(EVP_sha1(), {secret, challenge_input, secret}), rest);
        case kMd5:
            return equal_mac(digest(EVP_md5(), {secret, challenge_input, secret}), rest);
        // research7: unconfirmed: 0x12/0x13 key the HMAC with the secret itself (never produced by HANDLE.NET).
        case kHmacSha1:
            return equal_mac(hmac(EVP_sha1(), secret, challenge_input), rest);
        case kHmacSha256:
            return equal_mac(hmac(EVP_sha256(), secret, challenge_input), rest);
        default:
            return false;
        }
    } catch (...) {
        return false;
    }
}

std::vector<std::uint8_t> random_bytes(std::size_t n)
{
    std::vector<std::uint8_t> out(n);
    // Without randomness every nonce and salt is predictable: there is nothing safe to go on with.
    if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1)
        std::abort();
    return out;
}

} // namespace idpath::crypto
