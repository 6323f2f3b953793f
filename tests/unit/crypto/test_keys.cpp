#include "tests/unit/crypto/test_keys.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace idpath::crypto::testing {

Key make_rsa(unsigned bits)
{
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits));
    if (pkey == nullptr)
        throw std::runtime_error("RSA keygen failed");
    return Key(pkey);
}

const Key& rsa_a()
{
    static const Key k = make_rsa();
    return k;
}

const Key& rsa_b()
{
    static const Key k = make_rsa();
    return k;
}

namespace {

std::string bio_text(BIO* bio)
{
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return s;
}

std::string encode(const Key& key, int selection, const char* structure)
{
    OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(key.get(), selection, "PEM", structure, nullptr);
    unsigned char* data = nullptr;
    std::size_t len = 0;
    if (ctx == nullptr || OSSL_ENCODER_to_data(ctx, &data, &len) != 1)
        throw std::runtime_error("PEM encoding failed");
    OSSL_ENCODER_CTX_free(ctx);
    std::string s(reinterpret_cast<char*>(data), len);
    OPENSSL_free(data);
    return s;
}

void put_int4(std::vector<std::uint8_t>& out, std::uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_string(std::vector<std::uint8_t>& out, const std::string& s)
{
    put_int4(out, static_cast<std::uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}

void put_bn(std::vector<std::uint8_t>& out, const Key& key, const char* name, bool java_form)
{
    BIGNUM* b = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), name, &b) != 1)
        throw std::runtime_error(std::string("no key parameter ") + name);
    std::vector<std::uint8_t> mag(static_cast<std::size_t>(BN_num_bytes(b)));
    BN_bn2bin(b, mag.data());
    BN_free(b);
    if (java_form && (mag.empty() || (mag[0] & 0x80) != 0))
        mag.insert(mag.begin(), 0);
    put_int4(out, static_cast<std::uint32_t>(mag.size()));
    out.insert(out.end(), mag.begin(), mag.end());
}

} // namespace

std::string pem(const Key& key, const std::string& form)
{
    if (form == "pkcs8")
        return encode(key, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
    if (form == "pkcs1")
        return encode(key, EVP_PKEY_KEYPAIR, "type-specific");
    if (form == "spki")
        return encode(key, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
    if (form == "pkcs1-public")
        return encode(key, EVP_PKEY_PUBLIC_KEY, "type-specific");
    if (form == "encrypted") {
        BIO* bio = BIO_new(BIO_s_mem());
        static const char pass[] = "secret";
        if (PEM_write_bio_PKCS8PrivateKey(bio, key.get(), EVP_aes_256_cbc(), pass, sizeof pass - 1, nullptr,
                                          nullptr) != 1)
            throw std::runtime_error("encrypted PEM failed");
        return bio_text(bio);
    }
    throw std::runtime_error("unknown PEM form " + form);
}

std::vector<std::uint8_t> handle_net_private(const Key& key, bool crt, bool java_form, std::uint32_t encryption)
{
    std::vector<std::uint8_t> out;
    put_int4(out, encryption);
    if (crt) {
        put_string(out, "RSA_PRIVCRT_KEY");
        for (const char* name : {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
                                 OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
                                 OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
                                 OSSL_PKEY_PARAM_RSA_COEFFICIENT1})
            put_bn(out, key, name, java_form);
    } else {
        put_string(out, "RSA_PRIV_KEY");
        put_bn(out, key, OSSL_PKEY_PARAM_RSA_N, java_form);
        put_bn(out, key, OSSL_PKEY_PARAM_RSA_D, java_form);
    }
    return out;
}

void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_file(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary);
    out << text;
}

TempDir::TempDir()
{
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("idpath-crypto-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

} // namespace idpath::crypto::testing
