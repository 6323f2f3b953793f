#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <stdexcept>
#include <thread>

#include "controlplane/crypto/tls_stream.hpp"
#include "tests/unit/crypto/test_keys.hpp"

namespace idpath::crypto {
namespace {

using namespace idpath::crypto::testing;
using ServerResult = Result<std::unique_ptr<ByteStream>, std::string>;

constexpr int kTimeout = 5000;

std::pair<int, int> socket_pair()
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error("socketpair");
    return {sv[0], sv[1]};
}

std::shared_ptr<TlsServerContext> server_ctx(const Key& key)
{
    auto ctx = TlsServerContext::make(key);
    if (!ctx)
        throw std::runtime_error(ctx.error());
    return *ctx;
}

std::string read_string(ByteStream& s, std::size_t n)
{
    std::string out(n, '\0');
    auto r = s.read_exact(MutableByteSpan(reinterpret_cast<std::uint8_t*>(out.data()), n), kTimeout);
    if (!r)
        return "error: " + r.error();
    return out;
}

TEST(Tls, HandshakeAndDataBothWays)
{
    auto ctx = server_ctx(rsa_a());
    auto [sfd, cfd] = socket_pair();
    auto server = std::async(std::launch::async, [&, sfd = sfd]() -> std::string {
        auto s = ctx->accept(plain_stream(sfd), kTimeout);
        if (!s)
            return "accept: " + s.error();
        const std::string got = read_string(**s, 4);
        // Big enough to span many records.
        std::vector<std::uint8_t> big(200000);
        for (std::size_t i = 0; i < big.size(); ++i)
            big[i] = static_cast<std::uint8_t>(i * 7);
        if (auto w = (*s)->write_all(big, kTimeout); !w)
            return "write: " + w.error();
        (*s)->close();
        return got;
    });
    auto pub = public_key_from_bytes(public_key_record(rsa_a()));
    ASSERT_TRUE(pub);
    auto c = tls_connect(plain_stream(cfd), *pub, kTimeout);
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ((*c)->fd(), cfd);
    ASSERT_TRUE((*c)->write_all(as_bytes(std::string_view("ping")), kTimeout));
    std::vector<std::uint8_t> big(200000);
    auto r = (*c)->read_exact(big, kTimeout);
    ASSERT_TRUE(r) << r.error();
    for (std::size_t i = 0; i < big.size(); ++i)
        ASSERT_EQ(big[i], static_cast<std::uint8_t>(i * 7)) << i;
    // close_notify, then the end.
    std::uint8_t b[1];
    auto end = (*c)->read_some(b, kTimeout);
    ASSERT_TRUE(end) << end.error();
    EXPECT_EQ(*end, 0u);
    EXPECT_EQ(server.get(), "ping");
    (*c)->close();
    (*c)->close();
}

TEST(Tls, Rsa1024ServerKeysWork)
{
    // Older HANDLE.NET installations have 1024-bit server keys.
    const Key small = make_rsa(1024);
    auto ctx = server_ctx(small);
    auto [sfd, cfd] = socket_pair();
    auto server = std::async(std::launch::async, [&, sfd = sfd]() -> std::string {
        auto s = ctx->accept(plain_stream(sfd), kTimeout);
        if (!s)
            return "accept: " + s.error();
        (void)(*s)->write_all(as_bytes(std::string_view("hi")), kTimeout);
        return "ok";
    });
    auto c = tls_connect(plain_stream(cfd), small, kTimeout);
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(read_string(**c, 2), "hi");
    EXPECT_EQ(server.get(), "ok");
}

TEST(Tls, WrongExpectedKeyIsRefused)
{
    auto ctx = server_ctx(rsa_a());
    auto [sfd, cfd] = socket_pair();
    auto server = std::async(std::launch::async, [&, sfd = sfd]() {
        auto s = ctx->accept(plain_stream(sfd), kTimeout);
        if (!s)
            return;
        (void)(*s)->write_all(as_bytes(std::string_view("secret data")), kTimeout);
        std::uint8_t b[1];
        (void)(*s)->read_some(b, kTimeout);
    });
    auto c = tls_connect(plain_stream(cfd), rsa_b(), kTimeout);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), "upstream TLS key is not the configured key");
    server.get();
}

TEST(Tls, PeerClosingWithoutCloseNotifyReadsAsEnd)
{
    auto ctx = server_ctx(rsa_a());
    auto [sfd, cfd] = socket_pair();
    auto server = std::async(std::launch::async, [&, sfd = sfd]() -> std::string {
        auto s = ctx->accept(plain_stream(sfd), kTimeout);
        if (!s)
            return "accept: " + s.error();
        if (auto w = (*s)->write_all(as_bytes(std::string_view("last words")), kTimeout); !w)
            return "write: " + w.error();
        // As HANDLE.NET does: a bare FIN, no close_notify.
        ::shutdown((*s)->fd(), SHUT_WR);
        std::uint8_t b[1];
        auto n = (*s)->read_some(b, kTimeout);
        return n ? "read " + std::to_string(*n) : n.error();
    });
    auto c = tls_connect(plain_stream(cfd), rsa_a(), kTimeout);
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(read_string(**c, 10), "last words");
    std::uint8_t b[4];
    auto n = (*c)->read_some(b, kTimeout);
    ASSERT_TRUE(n) << n.error();
    EXPECT_EQ(*n, 0u);
    // The client also leaves with a bare FIN: the server reads the end too.
    ::shutdown((*c)->fd(), SHUT_WR);
    EXPECT_EQ(server.get(), "read 0");
}

TEST(Tls, ReadTimesOutInsideTls)
{
    auto ctx = server_ctx(rsa_a());
    auto [sfd, cfd] = socket_pair();
    std::promise<void> done;
    auto server = std::async(std::launch::async, [&, sfd = sfd]() {
        auto s = ctx->accept(plain_stream(sfd), kTimeout);
        done.get_future().wait();
    });
    auto c = tls_connect(plain_stream(cfd), rsa_a(), kTimeout);
    ASSERT_TRUE(c) << c.error();
    std::uint8_t b[4];
    auto n = (*c)->read_some(b, 100);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), "timeout");
    done.set_value();
    server.get();
}

TEST(Tls, HandshakeTimesOutAndFailsOnGarbage)
{
    auto ctx = server_ctx(rsa_a());
    {
        auto [sfd, cfd] = socket_pair();
        auto s = ctx->accept(plain_stream(sfd), 100);
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error(), "timeout");
        ::close(cfd);
    }
    {
        auto [sfd, cfd] = socket_pair();
        const std::string junk = "GET / HTTP/1.0\r\n\r\n";
        ASSERT_EQ(::write(cfd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
        auto s = ctx->accept(plain_stream(sfd), kTimeout);
        ASSERT_FALSE(s);
        EXPECT_THAT(s.error(), ::testing::StartsWith("TLS handshake"));
        ::close(cfd);
    }
    {
        auto [sfd, cfd] = socket_pair();
        ::close(sfd);
        auto c = tls_connect(plain_stream(cfd), rsa_a(), kTimeout);
        ASSERT_FALSE(c);
    }
}

TEST(Tls, ServerContextNeedsAPrivateKey)
{
    auto pub = public_key_from_bytes(public_key_record(rsa_a()));
    ASSERT_TRUE(pub);
    auto ctx = TlsServerContext::make(*pub);
    ASSERT_FALSE(ctx);
    EXPECT_EQ(ctx.error(), "TLS server: the server key is not a private key");
}

/// What a peer that is not ours sees: a plain OpenSSL client at TLS 1.2 only, as HANDLE.NET's
/// Java client ends up, checks the certificate's fields.
TEST(Tls, CertificateIsHandleNetsSelfSignedShape)
{
    auto ctx = server_ctx(rsa_a());
    auto [sfd, cfd] = socket_pair();
    auto server = std::async(std::launch::async, [&, sfd = sfd]() -> std::string {
        auto s = ctx->accept(plain_stream(sfd), kTimeout);
        if (!s)
            return "accept: " + s.error();
        (void)(*s)->write_all(as_bytes(std::string_view("ok")), kTimeout);
        std::uint8_t b[1];
        auto n = (*s)->read_some(b, kTimeout);
        return n ? "read " + std::to_string(*n) : n.error();
    });
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
    SSL* ssl = SSL_new(cctx);
    SSL_set_fd(ssl, cfd);
    ASSERT_EQ(SSL_connect(ssl), 1);
    EXPECT_EQ(SSL_version(ssl), TLS1_2_VERSION);
    X509* cert = SSL_get1_peer_certificate(ssl);
    ASSERT_NE(cert, nullptr);
    EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
    char name[128];
    X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name);
    EXPECT_STREQ(name, "/CN=anonymous");
    X509_NAME_oneline(X509_get_issuer_name(cert), name, sizeof name);
    EXPECT_STREQ(name, "/CN=anonymous");
    const ASN1_STRING* cn =
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(X509_get_subject_name(cert), 0));
    EXPECT_EQ(ASN1_STRING_type(cn), V_ASN1_UTF8STRING);
    BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    EXPECT_FALSE(BN_is_negative(serial));
    EXPECT_LE(BN_num_bytes(serial), 20);
    BN_free(serial);
    ASN1_TIME* t2000 = ASN1_TIME_new();
    ASN1_TIME_set_string(t2000, "20000101000000Z");
    EXPECT_EQ(ASN1_TIME_compare(X509_get0_notBefore(cert), t2000), 0);
    ASN1_TIME_free(t2000);
    ASN1_TIME* tend = ASN1_TIME_new();
    ASN1_TIME_set_string(tend, "99991231235959Z");
    EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(cert), tend), 0);
    ASN1_TIME_free(tend);
    EXPECT_EQ(X509_get_signature_nid(cert), NID_sha256WithRSAEncryption);
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert), rsa_a().get()), 1);
    EXPECT_EQ(X509_get_ext_count(cert), 0);
    X509_free(cert);
    char buf[2];
    EXPECT_EQ(SSL_read(ssl, buf, 2), 2);
    SSL_free(ssl);
    SSL_CTX_free(cctx);
    ::close(cfd); // no close_notify
    EXPECT_EQ(server.get(), "read 0");
}

} // namespace
} // namespace idpath::crypto
