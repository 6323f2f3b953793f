#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "controlplane/crypto/signature.hpp"
#include "tests/unit/crypto/test_keys.hpp"

namespace idpath::crypto {
namespace {

using namespace idpath::crypto::testing;

const std::string kData = "0123456789abcdef and a request digest";

TEST(Signature, SignsAndVerifiesUnderEveryName)
{
    for (const char* alg : {"SHA-256", "SHA256", "SHA1", "SHA-1", "MD5"}) {
        auto sig = sign(rsa_a(), alg, as_bytes(kData));
        ASSERT_TRUE(sig) << alg << ": " << sig.error();
        EXPECT_EQ(sig->size(), 256u);
        EXPECT_TRUE(verify(rsa_a(), alg, as_bytes(kData), *sig)) << alg;
    }
    // The aliases name one hash.
    EXPECT_EQ(*sign(rsa_a(), "SHA-256", as_bytes(kData)), *sign(rsa_a(), "SHA256", as_bytes(kData)));
    EXPECT_EQ(*sign(rsa_a(), "SHA1", as_bytes(kData)), *sign(rsa_a(), "SHA-1", as_bytes(kData)));
    EXPECT_NE(*sign(rsa_a(), "SHA1", as_bytes(kData)), *sign(rsa_a(), "SHA-256", as_bytes(kData)));
}

TEST(Signature, IsStandardPkcs1v15)
{
    auto sig = sign(rsa_a(), "SHA-256", as_bytes(kData));
    ASSERT_TRUE(sig);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, rsa_a().get()), 1);
    EXPECT_EQ(EVP_DigestVerify(ctx, sig->data(), sig->size(), reinterpret_cast<const unsigned char*>(kData.data()),
                               kData.size()),
              1);
    EVP_MD_CTX_free(ctx);
}

TEST(Signature, RejectsTamperingWrongKeyAndWrongHash)
{
    auto sig = sign(rsa_a(), "SHA-256", as_bytes(kData));
    ASSERT_TRUE(sig);
    std::string other = kData;
    other[3] ^= 1;
    EXPECT_FALSE(verify(rsa_a(), "SHA-256", as_bytes(other), *sig));
    auto bad = *sig;
    bad[100] ^= 0x40;
    EXPECT_FALSE(verify(rsa_a(), "SHA-256", as_bytes(kData), bad));
    EXPECT_FALSE(verify(rsa_b(), "SHA-256", as_bytes(kData), *sig));
    EXPECT_FALSE(verify(rsa_a(), "SHA1", as_bytes(kData), *sig));
    EXPECT_FALSE(verify(rsa_a(), "SHA-512", as_bytes(kData), *sig));
    EXPECT_FALSE(verify(rsa_a(), "SHA-256", as_bytes(kData), {}));
    EXPECT_FALSE(verify(rsa_a(), "SHA-256", as_bytes(kData), ByteSpan(sig->data(), 10)));
    EXPECT_FALSE(verify(Key(), "SHA-256", as_bytes(kData), *sig));
}

TEST(Signature, SignErrors)
{
    auto a = sign(rsa_a(), "SHA-512", as_bytes(kData));
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), "unknown signature hash \"SHA-512\"");
    auto pub = public_key_from_bytes(public_key_record(rsa_a()));
    ASSERT_TRUE(pub);
    auto b = sign(*pub, "SHA-256", as_bytes(kData));
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), "signing needs a private key");
    // A public key verifies.
    EXPECT_TRUE(verify(*pub, "SHA-256", as_bytes(kData), *sign(rsa_a(), "SHA-256", as_bytes(kData))));
}

std::vector<std::uint8_t> bytes_of(const std::string& s)
{
    return {s.begin(), s.end()};
}

const std::vector<std::uint8_t> kSecret = bytes_of("my secret key");
const std::vector<std::uint8_t> kInput = bytes_of("nonce-16-octets!and a 32 octet SHA-256 digest..");

TEST(Seckey, Pbkdf2FormAt27AndLater)
{
    const auto ans = seckey_answer(kSecret, kInput, 2, 10);
    // 22 | String salt(16) | int4 10000 | int4 160 | String mac(20)
    ASSERT_EQ(ans.size(), 1u + 4 + 16 + 4 + 4 + 4 + 20);
    EXPECT_EQ(ans[0], 0x22);
    EXPECT_EQ(load_be32(ans.data() + 1), 16u);
    EXPECT_EQ(load_be32(ans.data() + 21), 10000u);
    EXPECT_EQ(load_be32(ans.data() + 25), 160u);
    EXPECT_EQ(load_be32(ans.data() + 29), 20u);
    // Independent computation of the MAC.
    std::uint8_t dk[20];
    ASSERT_EQ(PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(kSecret.data()), static_cast<int>(kSecret.size()),
                                ans.data() + 5, 16, 10000, EVP_sha1(), 20, dk),
              1);
    std::uint8_t mac[20];
    unsigned int len = 0;
    HMAC(EVP_sha1(), dk, 20, kInput.data(), kInput.size(), mac, &len);
    EXPECT_TRUE(std::equal(mac, mac + 20, ans.data() + 33));

    EXPECT_TRUE(seckey_verify(kSecret, kInput, ans));
    EXPECT_EQ(seckey_answer(kSecret, kInput, 2, 7)[0], 0x22);
    EXPECT_EQ(seckey_answer(kSecret, kInput, 3, 0)[0], 0x22);
    // Salted: two answers differ, both verify.
    const auto again = seckey_answer(kSecret, kInput, 2, 10);
    EXPECT_NE(again, ans);
    EXPECT_TRUE(seckey_verify(kSecret, kInput, again));
}

TEST(Seckey, Sha1FormBefore27)
{
    const auto ans = seckey_answer(kSecret, kInput, 2, 6);
    ASSERT_EQ(ans.size(), 21u);
    EXPECT_EQ(ans[0], 0x02);
    std::vector<std::uint8_t> all = kSecret;
    all.insert(all.end(), kInput.begin(), kInput.end());
    all.insert(all.end(), kSecret.begin(), kSecret.end());
    std::uint8_t d[20];
    unsigned int len = 0;
    EVP_Digest(all.data(), all.size(), d, &len, EVP_sha1(), nullptr);
    EXPECT_TRUE(std::equal(d, d + 20, ans.begin() + 1));
    EXPECT_TRUE(seckey_verify(kSecret, kInput, ans));
    EXPECT_EQ(seckey_answer(kSecret, kInput, 2, 1), ans);
    // Before 2.1: the bare MD5.
    const auto old = seckey_answer(kSecret, kInput, 2, 0);
    EXPECT_EQ(old.size(), 16u);
    EXPECT_TRUE(seckey_verify(kSecret, kInput, old));
}

TEST(Seckey, OtherFormsHandleNetAccepts)
{
    std::vector<std::uint8_t> all = kSecret;
    all.insert(all.end(), kInput.begin(), kInput.end());
    all.insert(all.end(), kSecret.begin(), kSecret.end());
    std::uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(all.data(), all.size(), d, &len, EVP_md5(), nullptr);
    std::vector<std::uint8_t> md5 = {0x01};
    md5.insert(md5.end(), d, d + len);
    EXPECT_TRUE(seckey_verify(kSecret, kInput, md5));

    HMAC(EVP_sha1(), kSecret.data(), static_cast<int>(kSecret.size()), kInput.data(), kInput.size(), d, &len);
    std::vector<std::uint8_t> h1 = {0x12};
    h1.insert(h1.end(), d, d + len);
    EXPECT_TRUE(seckey_verify(kSecret, kInput, h1));
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()), kInput.data(), kInput.size(), d, &len);
    std::vector<std::uint8_t> h256 = {0x13};
    h256.insert(h256.end(), d, d + len);
    EXPECT_TRUE(seckey_verify(kSecret, kInput, h256));
    h256[0] = 0x12;
    EXPECT_FALSE(seckey_verify(kSecret, kInput, h256));
}

TEST(Seckey, TamperingAndMalformedAnswersFail)
{
    for (const std::uint8_t minor : {std::uint8_t{6}, std::uint8_t{10}}) {
        const auto ans = seckey_answer(kSecret, kInput, 2, minor);
        auto other_input = kInput;
        other_input[0] ^= 1;
        EXPECT_FALSE(seckey_verify(kSecret, other_input, ans));
        EXPECT_FALSE(seckey_verify(bytes_of("another secret"), kInput, ans));
        for (std::size_t i = 0; i < ans.size(); ++i) {
            auto bad = ans;
            bad[i] ^= 0x01;
            EXPECT_FALSE(seckey_verify(kSecret, kInput, bad)) << "octet " << i;
        }
        auto longer = ans;
        longer.push_back(0);
        EXPECT_FALSE(seckey_verify(kSecret, kInput, longer));
        for (std::size_t cut = 0; cut < ans.size(); ++cut)
            EXPECT_FALSE(seckey_verify(kSecret, kInput, ByteSpan(ans.data(), cut))) << "cut " << cut;
    }
    // A forged PBKDF2 cost beyond the bound is refused rather than computed.
    auto ans = seckey_answer(kSecret, kInput, 2, 10);
    store_be32(ans.data() + 21, 0xFFFFFFFF);
    EXPECT_FALSE(seckey_verify(kSecret, kInput, ans));
}

TEST(Seckey, NonAsciiSecretFollowsJava)
{
    // research7: Java widens each octet to a char and its PBKDF2 encodes chars as UTF-8.
    const std::vector<std::uint8_t> secret = {'k', 0xE9};
    const std::vector<std::uint8_t> as_java = {'k', 0xC3, 0xA9};
    const auto ans = seckey_answer(secret, kInput, 2, 10);
    EXPECT_TRUE(seckey_verify(secret, kInput, ans));
    std::uint8_t dk[20];
    ASSERT_EQ(PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(as_java.data()), static_cast<int>(as_java.size()),
                                ans.data() + 5, 16, 10000, EVP_sha1(), 20, dk),
              1);
    std::uint8_t mac[20];
    unsigned int len = 0;
    HMAC(EVP_sha1(), dk, 20, kInput.data(), kInput.size(), mac, &len);
    EXPECT_TRUE(std::equal(mac, mac + 20, ans.data() + 33));
}

TEST(Random, BytesDiffer)
{
    EXPECT_EQ(random_bytes(16).size(), 16u);
    EXPECT_NE(random_bytes(16), random_bytes(16));
    EXPECT_TRUE(random_bytes(0).empty());
}

} // namespace
} // namespace idpath::crypto
