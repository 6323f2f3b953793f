#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/evp.h>

#include "controlplane/crypto/keys.hpp"
#include "controlplane/crypto/signature.hpp"
#include "tests/unit/crypto/test_keys.hpp"

namespace idpath::crypto {
namespace {

using namespace idpath::crypto::testing;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// A private key that signs what its public half verifies.
void expect_works_with(const Key& priv, const Key& pub)
{
    ASSERT_TRUE(priv.is_private());
    const std::string msg = "nonce and digest";
    auto sig = sign(priv, "SHA-256", as_bytes(msg));
    ASSERT_TRUE(sig) << sig.error();
    EXPECT_TRUE(verify(pub, "SHA-256", as_bytes(msg), *sig));
}

std::vector<std::uint8_t> bytes_of(const std::string& s)
{
    return {s.begin(), s.end()};
}

TEST(Keys, PemPrivateKeysLoadFromFiles)
{
    TempDir dir;
    for (const char* form : {"pkcs8", "pkcs1"}) {
        write_file(dir / form, pem(rsa_a(), form));
        auto key = load_private_key(dir / form);
        ASSERT_TRUE(key) << form << ": " << key.error();
        EXPECT_TRUE(key->is_private());
        EXPECT_EQ(key->describe(), "RSA-2048");
        EXPECT_TRUE(same_public_key(*key, rsa_a()));
        expect_works_with(*key, rsa_a());
    }
}

TEST(Keys, EncryptedPemIsRefusedByName)
{
    TempDir dir;
    write_file(dir / "enc.pem", pem(rsa_a(), "encrypted"));
    auto key = load_private_key(dir / "enc.pem");
    ASSERT_FALSE(key);
    EXPECT_THAT(key.error(), StartsWith((dir / "enc.pem").string() + ": "));
    EXPECT_THAT(key.error(), HasSubstr("encrypted PEM private key"));
}

TEST(Keys, HandleNetCrtKeyLoads)
{
    for (const bool java_form : {true, false}) {
        auto key = private_key_from_bytes(handle_net_private(rsa_a(), true, java_form));
        ASSERT_TRUE(key) << key.error();
        EXPECT_TRUE(key->is_private());
        EXPECT_EQ(key->describe(), "RSA-2048");
        EXPECT_TRUE(same_public_key(*key, rsa_a()));
        expect_works_with(*key, rsa_a());
        // A signature by the loaded key is the one the original makes (PKCS#1 v1.5 is deterministic).
        const std::string msg = "m";
        EXPECT_EQ(*sign(*key, "SHA1", as_bytes(msg)), *sign(rsa_a(), "SHA1", as_bytes(msg)));
    }
}

TEST(Keys, HandleNetNonCrtKeyLoadsAndRecoversTheExponent)
{
    TempDir dir;
    write_file(dir / "privkey.bin", handle_net_private(rsa_b(), false));
    auto key = load_private_key(dir / "privkey.bin");
    ASSERT_TRUE(key) << key.error();
    EXPECT_TRUE(key->is_private());
    EXPECT_TRUE(same_public_key(*key, rsa_b()));
    expect_works_with(*key, rsa_b());
}

TEST(Keys, MalformedPrivateKeysAreErrors)
{
    auto truncated = handle_net_private(rsa_a(), true);
    truncated.resize(truncated.size() - 10);
    auto t = private_key_from_bytes(truncated);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), "truncated HANDLE.NET RSA_PRIVCRT_KEY key");

    std::vector<std::uint8_t> unknown = {0, 0, 0, 1, 0, 0, 0, 3, 'F', 'O', 'O'};
    auto u = private_key_from_bytes(unknown);
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error(), "unknown HANDLE.NET private key type \"FOO\"");

    EXPECT_FALSE(private_key_from_bytes(bytes_of("garbage that is no key")));
    EXPECT_FALSE(private_key_from_bytes({}));
    // A public key is not a private one.
    auto p = private_key_from_bytes(bytes_of(pem(rsa_a(), "spki")));
    EXPECT_FALSE(p);

    TempDir dir;
    auto missing = load_private_key(dir / "nope.bin");
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error(), StartsWith((dir / "nope.bin").string() + ": cannot open"));
}

TEST(Keys, PemPublicKeysLoad)
{
    TempDir dir;
    for (const char* form : {"spki", "pkcs1-public"}) {
        write_file(dir / form, pem(rsa_a(), form));
        auto key = load_public_key(dir / form);
        ASSERT_TRUE(key) << form << ": " << key.error();
        EXPECT_FALSE(key->is_private());
        EXPECT_TRUE(same_public_key(*key, rsa_a()));
        EXPECT_FALSE(same_public_key(*key, rsa_b()));
    }
}

TEST(Keys, PublicKeyRecordHasHandleNetShape)
{
    const auto rec = public_key_record(rsa_a());
    const std::vector<std::uint8_t> head = {0, 0, 0, 11, 'R', 'S', 'A', '_', 'P', 'U', 'B', '_', 'K', 'E', 'Y', 0, 0};
    ASSERT_GT(rec.size(), head.size() + 4);
    EXPECT_TRUE(std::equal(head.begin(), head.end(), rec.begin()));
    // e = 65537 as BigInteger.toByteArray(): 01 00 01.
    const std::vector<std::uint8_t> e = {0, 0, 0, 3, 1, 0, 1};
    EXPECT_TRUE(std::equal(e.begin(), e.end(), rec.begin() + static_cast<long>(head.size())));
    // n of a 2048-bit key has its top bit set: 257 octets with a leading 00.
    const std::size_t n_at = head.size() + e.size();
    EXPECT_EQ(load_be32(rec.data() + n_at), 257u);
    EXPECT_EQ(rec[n_at + 4], 0);
    EXPECT_EQ(rec.size(), n_at + 4 + 257 + 4);
    const std::vector<std::uint8_t> tail = {0, 0, 0, 0};
    EXPECT_TRUE(std::equal(tail.begin(), tail.end(), rec.end() - 4));
}

TEST(Keys, PublicKeyRecordRoundTrips)
{
    const auto rec = public_key_record(rsa_b());
    auto key = public_key_from_bytes(rec);
    ASSERT_TRUE(key) << key.error();
    EXPECT_FALSE(key->is_private());
    EXPECT_TRUE(same_public_key(*key, rsa_b()));
    EXPECT_EQ(public_key_record(*key), rec);
    // Without the trailer too, as the reader ignores it; and from a file.
    std::vector<std::uint8_t> short_rec(rec.begin(), rec.end() - 4);
    auto k2 = public_key_from_bytes(short_rec);
    ASSERT_TRUE(k2) << k2.error();
    EXPECT_TRUE(same_public_key(*k2, rsa_b()));
    TempDir dir;
    write_file(dir / "pubkey.bin", rec);
    auto k3 = load_public_key(dir / "pubkey.bin");
    ASSERT_TRUE(k3) << k3.error();
    EXPECT_TRUE(same_public_key(*k3, *key));
}

TEST(Keys, MalformedPublicKeysAreErrors)
{
    auto rec = public_key_record(rsa_a());
    rec.resize(40);
    auto t = public_key_from_bytes(rec);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), "truncated HANDLE.NET RSA_PUB_KEY record");
    const std::vector<std::uint8_t> dh = {0, 0, 0, 10, 'D', 'H', '_', 'P', 'U', 'B', '_', 'K', 'E', 'Y', 0, 0};
    auto d = public_key_from_bytes(dh);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), "unsupported HANDLE.NET public key type \"DH_PUB_KEY\"");
    EXPECT_FALSE(public_key_from_bytes(bytes_of("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")));
    TempDir dir;
    write_file(dir / "junk.pem", std::string("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"));
    auto j = load_public_key(dir / "junk.pem");
    ASSERT_FALSE(j);
    EXPECT_THAT(j.error(), StartsWith((dir / "junk.pem").string() + ": not a PEM public key"));
}

TEST(Keys, CopyAndMoveShareTheKey)
{
    Key a = rsa_a();
    Key b = a;
    EXPECT_EQ(a.get(), b.get());
    EXPECT_TRUE(b.is_private());
    Key c = std::move(b);
    EXPECT_FALSE(b);
    EXPECT_TRUE(same_public_key(c, rsa_a()));
    c = rsa_b();
    EXPECT_TRUE(same_public_key(c, rsa_b()));
    Key& same = c;
    c = same;
    EXPECT_TRUE(c);
    EXPECT_FALSE(same_public_key(Key(), rsa_a()));
    EXPECT_EQ(Key().describe(), "none");
}

TEST(Keys, DsaHandleNetRecordAndSignatures)
{
    EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr);
    ASSERT_NE(pctx, nullptr);
    EVP_PKEY* params = nullptr;
    ASSERT_EQ(EVP_PKEY_paramgen_init(pctx), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, 1024), 1);
    ASSERT_EQ(EVP_PKEY_paramgen(pctx, &params), 1);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_from_pkey(nullptr, params, nullptr);
    EVP_PKEY* pkey = nullptr;
    ASSERT_EQ(EVP_PKEY_keygen_init(kctx), 1);
    ASSERT_EQ(EVP_PKEY_keygen(kctx, &pkey), 1);
    EVP_PKEY_CTX_free(kctx);
    EVP_PKEY_free(params);
    const Key dsa(pkey);
    EXPECT_TRUE(dsa.is_private());
    EXPECT_EQ(dsa.describe(), "DSA-1024");

    const auto rec = public_key_record(dsa);
    ASSERT_FALSE(rec.empty());
    EXPECT_EQ(std::string(rec.begin() + 4, rec.begin() + 15), "DSA_PUB_KEY");
    auto pub = public_key_from_bytes(rec);
    ASSERT_TRUE(pub) << pub.error();
    EXPECT_TRUE(same_public_key(*pub, dsa));
    expect_works_with(dsa, *pub);
    const std::string msg = "x";
    EXPECT_TRUE(verify(*pub, "SHA1", as_bytes(msg), *sign(dsa, "SHA1", as_bytes(msg))));

    // The private key file: DSA_PRIV_KEY x, p, q, g (no y: the loader derives it).
    std::vector<std::uint8_t> file = {0, 0, 0, 1, 0, 0, 0, 12};
    for (const char c : std::string("DSA_PRIV_KEY"))
        file.push_back(static_cast<std::uint8_t>(c));
    for (const char* name : {OSSL_PKEY_PARAM_PRIV_KEY, OSSL_PKEY_PARAM_FFC_P, OSSL_PKEY_PARAM_FFC_Q,
                             OSSL_PKEY_PARAM_FFC_G}) {
        BIGNUM* b = nullptr;
        ASSERT_EQ(EVP_PKEY_get_bn_param(dsa.get(), name, &b), 1);
        std::vector<std::uint8_t> v(static_cast<std::size_t>(BN_num_bytes(b)));
        BN_bn2bin(b, v.data());
        BN_free(b);
        std::uint8_t len[4];
        store_be32(len, static_cast<std::uint32_t>(v.size()));
        file.insert(file.end(), len, len + 4);
        file.insert(file.end(), v.begin(), v.end());
    }
    auto loaded = private_key_from_bytes(file);
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_TRUE(loaded->is_private());
    EXPECT_TRUE(same_public_key(*loaded, dsa));
    expect_works_with(*loaded, *pub);
}

TEST(Keys, SecretDropsOneTrailingNewline)
{
    TempDir dir;
    write_file(dir / "a", std::string("s3cret\n"));
    write_file(dir / "b", std::string("s3cret\r\n"));
    write_file(dir / "c", std::string("s3cret"));
    write_file(dir / "d", std::string("s3cret\n\n"));
    const std::vector<std::uint8_t> want = bytes_of("s3cret");
    EXPECT_EQ(*load_secret(dir / "a"), want);
    EXPECT_EQ(*load_secret(dir / "b"), want);
    EXPECT_EQ(*load_secret(dir / "c"), want);
    EXPECT_EQ(*load_secret(dir / "d"), bytes_of("s3cret\n"));
    auto missing = load_secret(dir / "none");
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error(), StartsWith((dir / "none").string() + ": cannot open"));
}

} // namespace
} // namespace idpath::crypto
