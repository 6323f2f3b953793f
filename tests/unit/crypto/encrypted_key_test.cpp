// HANDLE.NET's passphrase-encrypted private key files (type 4: PBKDF2WithHmacSHA1, AES-CBC,
// PKCS5 padding; docs/handle-net-replication-notes.md section 6). The encrypted files here are
// laid out by hand from the notes, apart from the code under test, so the reader and writer
// are both checked against one independent construction.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "controlplane/crypto/handle_net_key_crypt.hpp"
#include "controlplane/crypto/keys.hpp"
#include "controlplane/crypto/signature.hpp"
#include "tests/unit/crypto/test_keys.hpp"

namespace idpath::crypto {
namespace {

using namespace idpath::crypto::testing;
using ::testing::HasSubstr;

void be32(std::vector<std::uint8_t>& out, std::uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> s));
}

void field(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& b)
{
    be32(out, static_cast<std::uint32_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
}

const std::vector<std::uint8_t> kSalt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const std::vector<std::uint8_t> kIv = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                       0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

/// `int4 4 | salt | int4 iterations | int4 128 | iv | AES-128-CBC(record)`, as hdl-keygen writes.
std::vector<std::uint8_t> encrypted_file(const std::vector<std::uint8_t>& record, const std::string& pass,
                                         std::uint32_t iterations = 10000)
{
    std::uint8_t key[16];
    EXPECT_EQ(PKCS5_PBKDF2_HMAC(pass.data(), static_cast<int>(pass.size()), kSalt.data(), static_cast<int>(kSalt.size()),
                                static_cast<int>(iterations), EVP_sha1(), sizeof key, key),
              1);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::vector<std::uint8_t> ct(record.size() + 16);
    int n = 0, tail = 0;
    EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr, key, kIv.data()), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, ct.data(), &n, record.data(), static_cast<int>(record.size())), 1);
    EXPECT_EQ(EVP_EncryptFinal_ex(ctx, ct.data() + n, &tail), 1);
    EVP_CIPHER_CTX_free(ctx);
    ct.resize(static_cast<std::size_t>(n + tail));
    std::vector<std::uint8_t> out;
    be32(out, 4);
    field(out, kSalt);
    be32(out, iterations);
    be32(out, 128);
    field(out, kIv);
    field(out, ct);
    return out;
}

/// The key record an unencrypted file carries after its int4 1.
std::vector<std::uint8_t> record_of(const Key& key)
{
    auto file = handle_net_private(key, true);
    return {file.begin() + 4, file.end()};
}

TEST(EncryptedKeys, Type4LoadsWithItsPassphrase)
{
    TempDir dir;
    for (const std::string pass : {"s3cret pass", "口令-päss"}) { // UTF-8, as Java hands it to PBKDF2
        SCOPED_TRACE(pass);
        write_file(dir / "admpriv.bin", encrypted_file(record_of(rsa_a()), pass));
        auto key = load_private_key(dir / "admpriv.bin", pass);
        ASSERT_TRUE(key) << key.error();
        EXPECT_TRUE(key->is_private());
        EXPECT_TRUE(same_public_key(*key, rsa_a()));
        const std::string msg = "nonce and digest";
        EXPECT_EQ(*sign(*key, "SHA256", as_bytes(msg)), *sign(rsa_a(), "SHA256", as_bytes(msg)));
    }
}

TEST(EncryptedKeys, WriterMatchesTheLayout)
{
    const auto record = record_of(rsa_b());
    const auto written = encrypt_handle_net_key(record, "pass", kSalt, 10000, 128, kIv);
    ASSERT_TRUE(written) << written.error();
    EXPECT_EQ(*written, encrypted_file(record, "pass"));
    auto back = private_key_from_bytes(*written, std::string("pass"));
    ASSERT_TRUE(back) << back.error();
    EXPECT_TRUE(same_public_key(*back, rsa_b()));
}

TEST(EncryptedKeys, MissingOrWrongPassphraseIsSaidSo)
{
    TempDir dir;
    write_file(dir / "admpriv.bin", encrypted_file(record_of(rsa_a()), "right"));
    auto none = load_private_key(dir / "admpriv.bin");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error(), (dir / "admpriv.bin").string() + ": HANDLE.NET key encrypted (type 4): give its passphrase");
    auto wrong = load_private_key(dir / "admpriv.bin", std::string("wrong"));
    ASSERT_FALSE(wrong);
    EXPECT_THAT(wrong.error(), HasSubstr("wrong passphrase"));
}

TEST(EncryptedKeys, OtherTypesAndDamageAreRefusedByName)
{
    for (const std::uint32_t type : {0u, 2u, 3u}) {
        auto k = private_key_from_bytes(handle_net_private(rsa_a(), true, true, type), std::string("x"));
        ASSERT_FALSE(k);
        EXPECT_THAT(k.error(), HasSubstr("older type " + std::to_string(type)));
    }
    auto file = encrypted_file(record_of(rsa_a()), "p");
    for (std::size_t cut : {5u, 20u, 30u, 50u}) {
        auto k = private_key_from_bytes(std::vector<std::uint8_t>(file.begin(), file.begin() + cut), std::string("p"));
        ASSERT_FALSE(k) << cut;
        EXPECT_THAT(k.error(), HasSubstr("truncated HANDLE.NET encrypted key")) << cut;
    }
    auto slow = encrypted_file(record_of(rsa_a()), "p");
    slow[4 + 4 + 16] = 0x7f; // iterations 0x7f002710: far beyond any real key's
    auto s = private_key_from_bytes(slow, std::string("p"));
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error(), HasSubstr("implausible PBKDF2 iteration count"));
}

TEST(EncryptedKeys, PassphraseFileIsItsFirstLine)
{
    TempDir dir;
    write_file(dir / "a.pass", std::string("open sesame\r\nignored\n"));
    EXPECT_EQ(*load_passphrase(dir / "a.pass"), "open sesame");
    write_file(dir / "b.pass", std::string("no newline"));
    EXPECT_EQ(*load_passphrase(dir / "b.pass"), "no newline");
    write_file(dir / "c.pass", std::string("\n"));
    auto empty = load_passphrase(dir / "c.pass");
    ASSERT_FALSE(empty);
    EXPECT_THAT(empty.error(), HasSubstr("empty passphrase"));
    EXPECT_FALSE(load_passphrase(dir / "missing.pass"));
}

} // namespace
} // namespace idpath::crypto
