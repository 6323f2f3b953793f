#include "controlplane/crypto/keys.hpp"
#include "controlplane/crypto/handle_net_key_crypt.hpp"
#include "controlplane/crypto/openssl_error.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "dataplane/base/byte_append.hpp"
#include "dataplane/base/byte_reader.hpp"

namespace idpath::crypto {

namespace {

struct BnFree {
    void operator()(BIGNUM* b) const noexcept { BN_clear_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

bool has_private(EVP_PKEY* pkey) noexcept
{
    if (pkey == nullptr)
        return false;
    BIGNUM* b = nullptr;
    const bool yes = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &b) == 1 ||
                     EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &b) == 1;
    BN_clear_free(b);
    ERR_clear_error();
    return yes;
}

Result<std::vector<std::uint8_t>, std::string> read_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return Err(file.string() + ": cannot open: " + std::strerror(errno));
    // Keys and secrets are a few kilobytes; a bound keeps a misconfigured path (a device, a
    // log) from being read whole.
    constexpr std::size_t kMaxFile = 1 << 20;
    std::vector<std::uint8_t> bytes(kMaxFile + 1);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (in.bad())
        return Err(file.string() + ": read failed");
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > kMaxFile)
        return Err(file.string() + ": larger than 1 MiB, not a key");
    return bytes;
}

/// HANDLE.NET's encoding: int4 big-endian lengths before every octet string. Each field is
/// nullopt (or null) once the bytes run out.
class Reader {
public:
    explicit Reader(ByteSpan b) : r_(b) {}
    std::optional<std::uint32_t> int4() { return checked(r_.u32()); }
    std::optional<std::uint16_t> int2() { return checked(r_.u16()); }
    std::optional<ByteSpan> string() { return checked(r_.string(r_.remaining())); }
    /// An integer as Java's BigInteger(1, bytes) reads it: a magnitude, leading zeros allowed.
    Bn integer()
    {
        const auto s = string();
        if (!s || s->empty())
            return nullptr;
        return Bn(BN_bin2bn(s->data(), static_cast<int>(s->size()), nullptr));
    }

private:
    template <class T>
    std::optional<T> checked(T v) const
    {
        return r_.ok() ? std::optional<T>(v) : std::nullopt;
    }

    ByteReader r_;
};

/// What the named fields make, through OSSL_PARAM_BLD; `selection` says public or keypair.
Result<Key, std::string> from_params(const char* type, int selection,
                                     std::initializer_list<std::pair<const char*, const BIGNUM*>> fields)
{
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    if (bld == nullptr)
        return Err(openssl_errors());
    bool ok = true;
    for (const auto& [name, value] : fields)
        ok = ok && OSSL_PARAM_BLD_push_BN(bld, name, value) == 1;
    OSSL_PARAM* params = ok ? OSSL_PARAM_BLD_to_param(bld) : nullptr;
    OSSL_PARAM_BLD_free(bld);
    if (params == nullptr)
        return Err(openssl_errors());
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
    EVP_PKEY* pkey = nullptr;
    const bool made = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                      EVP_PKEY_fromdata(ctx, &pkey, selection, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (!made)
        return Err(openssl_errors());
    return Key(pkey);
}

/// HANDLE.NET's RSA_PRIV_KEY holds n and d only, but OpenSSL needs e (blinding, the public
/// half). Real keys use one of a few exponents: find the one that inverts d.
Bn recover_public_exponent(const BIGNUM* n, const BIGNUM* d)
{
    BN_CTX* ctx = BN_CTX_new();
    Bn m(BN_new()), s(BN_new()), back(BN_new());
    Bn found;
    if (ctx != nullptr && m && s && back && BN_set_word(m.get(), 0x1234567) == 1 &&
        BN_mod_exp(s.get(), m.get(), d, n, ctx) == 1) {
        for (const unsigned long e : {65537UL, 3UL, 17UL, 5UL, 7UL, 257UL}) {
            Bn eb(BN_new());
            if (eb && BN_set_word(eb.get(), e) == 1 && BN_mod_exp(back.get(), s.get(), eb.get(), n, ctx) == 1 &&
                BN_cmp(back.get(), m.get()) == 0) {
                found = std::move(eb);
                break;
            }
        }
    }
    BN_CTX_free(ctx);
    return found;
}

/// The key record of a HANDLE.NET private key file (what follows encType 1, or what an
/// encrypted file's payload decrypts to).
Result<Key, std::string> handle_net_private_record(ByteSpan record)
{
    Reader r(record);
    const auto type_bytes = r.string();
    if (!type_bytes)
        return Err(std::string("truncated HANDLE.NET key"));
    const std::string type(as_string_view(*type_bytes));
    const std::string truncated = "truncated HANDLE.NET " + type + " key";
    Result<Key, std::string> key = Err(std::string());
    if (type == "RSA_PRIVCRT_KEY") {
        Bn n = r.integer(), e = r.integer(), d = r.integer(), p = r.integer(), q = r.integer(), dp = r.integer(),
           dq = r.integer(), qinv = r.integer();
        if (!qinv)
            return Err(truncated);
        key = from_params("RSA", EVP_PKEY_KEYPAIR,
                          {{OSSL_PKEY_PARAM_RSA_N, n.get()},
                           {OSSL_PKEY_PARAM_RSA_E, e.get()},
                           {OSSL_PKEY_PARAM_RSA_D, d.get()},
                           {OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()},
                           {OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()},
                           {OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()},
                           {OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()},
                           {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get()}});
    } else if (type == "RSA_PRIV_KEY") {
        Bn n = r.integer(), d = r.integer();
        if (!d)
            return Err(truncated);
        Bn e = recover_public_exponent(n.get(), d.get());
        if (!e)
            return Err(std::string("HANDLE.NET RSA_PRIV_KEY: public exponent not one of 65537, 3, 17, 5, 7, 257"));
        key = from_params("RSA", EVP_PKEY_KEYPAIR,
                          {{OSSL_PKEY_PARAM_RSA_N, n.get()}, {OSSL_PKEY_PARAM_RSA_E, e.get()},
                           {OSSL_PKEY_PARAM_RSA_D, d.get()}});
    } else if (type == "DSA_PRIV_KEY") {
        Bn x = r.integer(), p = r.integer(), q = r.integer(), g = r.integer();
        if (!g)
            return Err(truncated);
        // The file has no y; OpenSSL wants the public half with the private one.
        Bn y(BN_new());
        BN_CTX* ctx = BN_CTX_new();
        const bool ok = y && ctx != nullptr && BN_mod_exp(y.get(), g.get(), x.get(), p.get(), ctx) == 1;
        BN_CTX_free(ctx);
        if (!ok)
            return Err(openssl_errors());
        key = from_params("DSA", EVP_PKEY_KEYPAIR,
                          {{OSSL_PKEY_PARAM_FFC_P, p.get()},
                           {OSSL_PKEY_PARAM_FFC_Q, q.get()},
                           {OSSL_PKEY_PARAM_FFC_G, g.get()},
                           {OSSL_PKEY_PARAM_PUB_KEY, y.get()},
                           {OSSL_PKEY_PARAM_PRIV_KEY, x.get()}});
    } else {
        return Err("unknown HANDLE.NET private key type \"" + type + "\"");
    }
    if (!key)
        return Err("bad HANDLE.NET " + type + " key: " + key.error());
    return key;
}

Result<Key, std::string> handle_net_private_key(ByteSpan bytes, const std::optional<std::string>& passphrase)
{
    if (bytes.size() < 4)
        return Err(std::string("truncated HANDLE.NET key"));
    const std::uint32_t enc = load_be32(bytes.data());
    const ByteSpan rest = bytes.subspan(4);
    if (enc == kHandleNetEncryptNone)
        return handle_net_private_record(rest);
    if (!passphrase)
        return Err("HANDLE.NET key encrypted (type " + std::to_string(enc) + "): give its passphrase");
    auto record = decrypt_handle_net_key(enc, rest, *passphrase);
    if (!record)
        return Err(record.error());
    auto key = handle_net_private_record(*record);
    OPENSSL_cleanse(record->data(), record->size());
    if (!key) // a wrong passphrase whose garbage still ends in valid padding (1 in 256)
        return Err("wrong passphrase (or a damaged key file): " + key.error());
    return key;
}

Result<Key, std::string> handle_net_public_key(ByteSpan bytes)
{
    Reader r(bytes);
    const auto type_bytes = r.string();
    const auto flags = r.int2();
    if (!type_bytes || !flags)
        return Err(std::string("truncated HANDLE.NET public key record"));
    const std::string type(as_string_view(*type_bytes));
    const std::string truncated = "truncated HANDLE.NET " + type + " record";
    Result<Key, std::string> key = Err(std::string());
    if (type == "RSA_PUB_KEY") {
        Bn e = r.integer(), n = r.integer();
        if (!n)
            return Err(truncated);
        key = from_params("RSA", EVP_PKEY_PUBLIC_KEY, {{OSSL_PKEY_PARAM_RSA_N, n.get()}, {OSSL_PKEY_PARAM_RSA_E, e.get()}});
    } else if (type == "DSA_PUB_KEY") {
        Bn q = r.integer(), p = r.integer(), g = r.integer(), y = r.integer();
        if (!y)
            return Err(truncated);
        key = from_params("DSA", EVP_PKEY_PUBLIC_KEY,
                          {{OSSL_PKEY_PARAM_FFC_P, p.get()},
                           {OSSL_PKEY_PARAM_FFC_Q, q.get()},
                           {OSSL_PKEY_PARAM_FFC_G, g.get()},
                           {OSSL_PKEY_PARAM_PUB_KEY, y.get()}});
    } else {
        return Err("unsupported HANDLE.NET public key type \"" + type + "\"");
    }
    if (!key)
        return Err("bad HANDLE.NET " + type + " record: " + key.error());
    return key;
}

bool looks_like_pem(ByteSpan bytes)
{
    const std::string_view s = as_string_view(bytes);
    const auto start = s.find_first_not_of(" \t\r\n");
    return start != std::string_view::npos && s.substr(start).starts_with("-----BEGIN ");
}

/// A key from PEM or DER through OpenSSL's decoders (PKCS#8, PKCS#1, SubjectPublicKeyInfo...).
Result<EVP_PKEY*, std::string> decode(ByteSpan bytes, const char* input_type, int selection)
{
    EVP_PKEY* pkey = nullptr;
    OSSL_DECODER_CTX* dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, input_type, nullptr, nullptr, selection, nullptr, nullptr);
    if (dctx == nullptr)
        return Err(openssl_errors());
    const unsigned char* data = bytes.data();
    std::size_t len = bytes.size();
    const bool ok = OSSL_DECODER_from_data(dctx, &data, &len) == 1;
    OSSL_DECODER_CTX_free(dctx);
    if (!ok || pkey == nullptr) {
        EVP_PKEY_free(pkey);
        return Err(openssl_errors());
    }
    ERR_clear_error();
    return pkey;
}

/// Java's BigInteger.toByteArray(): minimal two's complement, so a 00 before a set top bit.
void put_integer(std::vector<std::uint8_t>& out, const BIGNUM* v)
{
    const int n = BN_num_bytes(v);
    std::vector<std::uint8_t> mag(static_cast<std::size_t>(n));
    BN_bn2bin(v, mag.data());
    if (mag.empty() || (mag[0] & 0x80) != 0)
        mag.insert(mag.begin(), 0);
    std::uint8_t len[4];
    store_be32(len, static_cast<std::uint32_t>(mag.size()));
    out.insert(out.end(), len, len + 4);
    out.insert(out.end(), mag.begin(), mag.end());
}

Bn bn_param(EVP_PKEY* pkey, const char* name)
{
    BIGNUM* b = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, name, &b) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return Bn(b);
}

} // namespace

Key::Key(EVP_PKEY* pkey) noexcept : pkey_(pkey), private_(has_private(pkey)) {}

Key::~Key()
{
    EVP_PKEY_free(pkey_);
}

Key::Key(const Key& other) : pkey_(other.pkey_), private_(other.private_)
{
    if (pkey_ != nullptr)
        EVP_PKEY_up_ref(pkey_);
}

Key& Key::operator=(const Key& other)
{
    if (this != &other) {
        Key copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Key::Key(Key&& other) noexcept : pkey_(other.pkey_), private_(other.private_)
{
    other.pkey_ = nullptr;
    other.private_ = false;
}

Key& Key::operator=(Key&& other) noexcept
{
    if (this != &other) {
        EVP_PKEY_free(pkey_);
        pkey_ = other.pkey_;
        private_ = other.private_;
        other.pkey_ = nullptr;
        other.private_ = false;
    }
    return *this;
}

std::string Key::describe() const
{
    if (pkey_ == nullptr)
        return "none";
    const char* name = "key";
    switch (EVP_PKEY_get_base_id(pkey_)) {
    case EVP_PKEY_RSA:
        name = "RSA";
        break;
    case EVP_PKEY_DSA:
        name = "DSA";
        break;
    case EVP_PKEY_EC:
        name = "EC";
        break;
    default:
        break;
    }
    return std::string(name) + "-" + std::to_string(EVP_PKEY_get_bits(pkey_));
}

Result<Key, std::string> private_key_from_bytes(ByteSpan bytes, const std::optional<std::string>& passphrase)
{
    if (looks_like_pem(bytes)) {
        const std::string_view s = as_string_view(bytes);
        if (s.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
            s.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos)
            return Err(std::string("encrypted PEM private key; decrypt it first (openssl pkey -in KEY -out PLAIN)"));
        auto pkey = decode(bytes, "PEM", EVP_PKEY_KEYPAIR);
        if (!pkey)
            return Err("not a PEM private key: " + pkey.error());
        Key key(*pkey);
        if (!key.is_private())
            return Err(std::string("not a private key (PEM holds a public key)"));
        return key;
    }
    // An unencrypted HANDLE.NET file starts 00000001, an encrypted one 00000000..00000004; DER
    // starts 0x30.
    if (bytes.size() >= 4 && load_be32(bytes.data()) <= 4) {
        auto key = handle_net_private_key(bytes, passphrase);
        if (!key)
            return Err(key.error());
        Key k = std::move(key).value();
        k.private_ = true;
        return k;
    }
    auto pkey = decode(bytes, "DER", EVP_PKEY_KEYPAIR);
    if (!pkey)
        return Err(std::string("not a PEM, DER or HANDLE.NET private key"));
    Key key(*pkey);
    if (!key.is_private())
        return Err(std::string("not a private key"));
    return key;
}

Result<Key, std::string> load_private_key(const std::filesystem::path& file, const std::optional<std::string>& passphrase)
{
    auto bytes = read_file(file);
    if (!bytes)
        return Err(bytes.error());
    auto key = private_key_from_bytes(*bytes, passphrase);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    if (!key)
        return Err(file.string() + ": " + key.error());
    return key;
}

Result<Key, std::string> public_key_from_bytes(ByteSpan bytes)
{
    if (looks_like_pem(bytes)) {
        auto pkey = decode(bytes, "PEM", EVP_PKEY_PUBLIC_KEY);
        if (!pkey)
            return Err("not a PEM public key: " + pkey.error());
        return Key(*pkey);
    }
    // A record starts with the int4 length of its type name ("RSA_PUB_KEY" and the like).
    if (bytes.size() >= 4 && load_be32(bytes.data()) < 64)
        return handle_net_public_key(bytes);
    auto pkey = decode(bytes, "DER", EVP_PKEY_PUBLIC_KEY);
    if (!pkey)
        return Err(std::string("not a PEM, DER or HANDLE.NET public key"));
    return Key(*pkey);
}

Result<Key, std::string> load_public_key(const std::filesystem::path& file)
{
    auto bytes = read_file(file);
    if (!bytes)
        return Err(bytes.error());
    auto key = public_key_from_bytes(*bytes);
    if (!key)
        return Err(file.string() + ": " + key.error());
    return key;
}

std::vector<std::uint8_t> public_key_record(const Key& key)
{
    std::vector<std::uint8_t> out;
    if (!key)
        return out;
    switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA: {
        Bn n = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N), e = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E);
        if (!n || !e)
            return out;
        append_string(out, "RSA_PUB_KEY");
        out.insert(out.end(), {0, 0});
        put_integer(out, e.get());
        put_integer(out, n.get());
        // HANDLE.NET sizes the buffer for four length fields and writes three.
        out.insert(out.end(), {0, 0, 0, 0});
        return out;
    }
    case EVP_PKEY_DSA: {
        Bn p = bn_param(key.get(), OSSL_PKEY_PARAM_FFC_P), q = bn_param(key.get(), OSSL_PKEY_PARAM_FFC_Q),
           g = bn_param(key.get(), OSSL_PKEY_PARAM_FFC_G), y = bn_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY);
        if (!p || !q || !g || !y)
            return out;
        append_string(out, "DSA_PUB_KEY");
        out.insert(out.end(), {0, 0});
        put_integer(out, q.get());
        put_integer(out, p.get());
        put_integer(out, g.get());
        put_integer(out, y.get());
        return out;
    }
    default:
        return out;
    }
}

bool same_public_key(const Key& a, const Key& b)
{
    if (!a || !b)
        return false;
    const bool eq = EVP_PKEY_eq(a.get(), b.get()) == 1;
    ERR_clear_error();
    return eq;
}

Result<std::vector<std::uint8_t>, std::string> load_secret(const std::filesystem::path& file)
{
    auto bytes = read_file(file);
    if (!bytes)
        return Err(bytes.error());
    auto& b = *bytes;
    if (!b.empty() && b.back() == '\n') {
        b.pop_back();
        if (!b.empty() && b.back() == '\r')
            b.pop_back();
    }
    return bytes;
}

Result<std::string, std::string> load_passphrase(const std::filesystem::path& file)
{
    auto bytes = read_file(file);
    if (!bytes)
        return Err(bytes.error());
    std::string text(bytes->begin(), bytes->end());
    OPENSSL_cleanse(bytes->data(), bytes->size());
    text.resize(std::min(text.find('\n'), text.size()));
    if (!text.empty() && text.back() == '\r')
        text.pop_back();
    if (text.empty())
        return Err(file.string() + ": empty passphrase");
    return text;
}

} // namespace idpath::crypto
