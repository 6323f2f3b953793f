#include "controlplane/crypto/tls_stream.hpp"
#include "controlplane/crypto/openssl_error.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>

namespace idpath::crypto {

namespace {

using Clock = std::chrono::steady_clock;

// The socket is driven through memory BIOs rather than SSL_set_fd: OpenSSL's socket BIO writes
// with write(2), which raises SIGPIPE on a peer that has gone; the plain stream sends with
// MSG_NOSIGNAL and keeps the deadlines in one place.
constexpr std::size_t kChunk = 16 * 1024;
// close() has no deadline of its own; a close_notify is one small record.
constexpr int kCloseFlushMs = 1000;

int remaining_ms(Clock::time_point deadline)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

std::string openssl_error(const char* what)
{
    return std::string(what) + ": " + openssl_errors();
}

/// HANDLE.NET keys may be RSA-1024; Debian's default security level 2 would refuse them, and
/// the key, not its size, is what the peers have agreed on.
constexpr int kSecurityLevel = 1;

class TlsStream final : public ByteStream {
public:
    TlsStream(std::unique_ptr<ByteStream> plain, SSL* ssl, BIO* rbio, BIO* wbio)
        : plain_(std::move(plain)), ssl_(ssl), rbio_(rbio), wbio_(wbio)
    {
    }
    ~TlsStream() override { SSL_free(ssl_); }

    /// Runs `op` (an SSL call) to completion, moving octets between the BIOs and the socket.
    /// Returns the op's result (> 0), 0 at the peer's end of stream, or an error.
    template <class Op>
    Result<int, std::string> drive(const char* what, Op op, Clock::time_point deadline)
    {
        for (;;) {
            ERR_clear_error();
            const int r = op();
            const int err = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
            // Whatever OpenSSL queued (handshake flights, alerts) goes out before anything else.
            if (auto f = flush(deadline); !f && err != SSL_ERROR_SSL)
                return Err(f.error());
            switch (err) {
            case SSL_ERROR_NONE:
                return r;
            case SSL_ERROR_ZERO_RETURN:
                return 0;
            case SSL_ERROR_WANT_READ: {
                if (auto f = fill(deadline); !f)
                    return Err(f.error());
                continue;
            }
            case SSL_ERROR_WANT_WRITE:
                continue;
            case SSL_ERROR_SYSCALL:
                if (eof_)
                    return Err(std::string(what) + ": connection closed");
                return Err(openssl_error(what));
            default:
                return Err(openssl_error(what));
            }
        }
    }

    Result<std::size_t, std::string> read_some(MutableByteSpan out, int timeout_ms) override
    {
        if (out.empty())
            return std::size_t{0};
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        std::size_t got = 0;
        auto r = drive("TLS read", [&] { return SSL_read_ex(ssl_, out.data(), out.size(), &got); }, deadline);
        if (!r)
            return Err(r.error());
        return *r == 0 ? std::size_t{0} : got;
    }

    Result<void, std::string> write_all(ByteSpan bytes, int timeout_ms) override
    {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        std::size_t done = 0;
        while (done < bytes.size()) {
            std::size_t n = 0;
            auto r = drive("TLS write",
                           [&] { return SSL_write_ex(ssl_, bytes.data() + done, bytes.size() - done, &n); }, deadline);
            if (!r)
                return Err(r.error());
            if (*r == 0)
                return Err(std::string("TLS write: peer closed"));
            done += n;
        }
        return {};
    }

    void close() override
    {
        if (closed_)
            return;
        closed_ = true;
        if (SSL_is_init_finished(ssl_) == 1) {
            ERR_clear_error();
            (void)SSL_shutdown(ssl_);
            (void)flush(Clock::now() + std::chrono::milliseconds(kCloseFlushMs));
        }
        ERR_clear_error();
        plain_->close();
    }

    int fd() const noexcept override { return plain_->fd(); }

    Result<void, std::string> handshake(int timeout_ms)
    {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        auto r = drive("TLS handshake", [&] { return SSL_do_handshake(ssl_); }, deadline);
        if (!r)
            return Err(r.error());
        if (*r == 0)
            return Err(std::string("TLS handshake: connection closed"));
        return {};
    }

    SSL* ssl() const noexcept { return ssl_; }

private:
    Result<void, std::string> flush(Clock::time_point deadline)
    {
        std::array<std::uint8_t, kChunk> buf;
        while (BIO_ctrl_pending(wbio_) > 0) {
            const int n = BIO_read(wbio_, buf.data(), static_cast<int>(buf.size()));
            if (n <= 0)
                break;
            if (auto w = plain_->write_all(ByteSpan(buf.data(), static_cast<std::size_t>(n)), remaining_ms(deadline)); !w)
                return w;
        }
        return {};
    }

    Result<void, std::string> fill(Clock::time_point deadline)
    {
        if (eof_)
            return Err(std::string("TLS: read past end of stream"));
        std::array<std::uint8_t, kChunk> buf;
        auto n = plain_->read_some(buf, remaining_ms(deadline));
        if (!n)
            return Err(n.error());
        if (*n == 0) {
            // HANDLE.NET ends with a bare FIN; with SSL_OP_IGNORE_UNEXPECTED_EOF this reads as the end.
            eof_ = true;
            BIO_set_mem_eof_return(rbio_, 0);
            return {};
        }
        BIO_write(rbio_, buf.data(), static_cast<int>(*n));
        return {};
    }

    std::unique_ptr<ByteStream> plain_;
    SSL* ssl_;
    BIO* rbio_; // owned by ssl_
    BIO* wbio_; // owned by ssl_
    bool eof_ = false;
    bool closed_ = false;
};

/// An SSL on memory BIOs over `plain`, as a stream not yet shaken hands.
Result<std::unique_ptr<TlsStream>, std::string> make_stream(SSL_CTX* ctx, std::unique_ptr<ByteStream> plain)
{
    SSL* ssl = SSL_new(ctx);
    if (ssl == nullptr)
        return Err(openssl_error("TLS"));
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (rbio == nullptr || wbio == nullptr) {
        BIO_free(rbio);
        BIO_free(wbio);
        SSL_free(ssl);
        return Err(openssl_error("TLS"));
    }
    // An empty read BIO means "wait for the socket", not the end of the stream.
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    return std::make_unique<TlsStream>(std::move(plain), ssl, rbio, wbio);
}

struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};

/// The certificate HANDLE.NET's X509HSCertificateGenerator makes for a server key.
Result<std::unique_ptr<X509, X509Free>, std::string> self_signed(const Key& key)
{
    std::unique_ptr<X509, X509Free> x(X509_new());
    if (!x)
        return Err(openssl_error("certificate"));
    std::array<std::uint8_t, 20> serial_bytes{};
    if (RAND_bytes(serial_bytes.data(), static_cast<int>(serial_bytes.size())) != 1)
        return Err(openssl_error("certificate serial"));
    serial_bytes[0] &= 0x7F;
    BIGNUM* serial = BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr);
    const bool serial_ok = serial != nullptr && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x.get())) != nullptr;
    BN_free(serial);
    X509_NAME* name = X509_get_subject_name(x.get());
    const bool ok =
        serial_ok && X509_set_version(x.get(), X509_VERSION_3) == 1 &&
        ASN1_TIME_set_string_X509(X509_getm_notBefore(x.get()), "20000101000000Z") == 1 &&
        ASN1_TIME_set_string_X509(X509_getm_notAfter(x.get()), "99991231235959Z") == 1 &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("anonymous"),
                                   -1, -1, 0) == 1 &&
        X509_set_issuer_name(x.get(), name) == 1 && X509_set_pubkey(x.get(), key.get()) == 1 &&
        X509_sign(x.get(), key.get(), EVP_sha256()) > 0;
    if (!ok)
        return Err(openssl_error("certificate"));
    return x;
}

/// HANDLE.NET pins the key, not a chain: every chain passes here, and the key is compared after
/// the handshake.
int accept_any_chain(int, X509_STORE_CTX*)
{
    return 1;
}

} // namespace

struct TlsServerContext::Impl {
    SSL_CTX* ctx = nullptr;
    ~Impl() { SSL_CTX_free(ctx); }
};

TlsServerContext::TlsServerContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TlsServerContext::~TlsServerContext() = default;

Result<std::shared_ptr<TlsServerContext>, std::string> TlsServerContext::make(const Key& server_key)
{
    if (!server_key || !server_key.is_private())
        return Err(std::string("TLS server: the server key is not a private key"));
    ERR_clear_error();
    auto cert = self_signed(server_key);
    if (!cert)
        return Err("TLS server: " + cert.error());
    auto impl = std::make_unique<Impl>();
    impl->ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX* ctx = impl->ctx;
    const bool ok = ctx != nullptr && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
                    (SSL_CTX_set_security_level(ctx, kSecurityLevel), true) &&
                    SSL_CTX_use_certificate(ctx, cert->get()) == 1 &&
                    SSL_CTX_use_PrivateKey(ctx, server_key.get()) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    if (!ok)
        return Err(openssl_error("TLS server context"));
    // No resumption: every replication connection is a fresh, short-lived session.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return std::shared_ptr<TlsServerContext>(new TlsServerContext(std::move(impl)));
}

Result<std::unique_ptr<ByteStream>, std::string> TlsServerContext::accept(std::unique_ptr<ByteStream> plain,
                                                                          int timeout_ms)
{
    ERR_clear_error();
    auto stream = make_stream(impl_->ctx, std::move(plain));
    if (!stream)
        return Err(stream.error());
    SSL_set_accept_state((*stream)->ssl());
    if (auto h = (*stream)->handshake(timeout_ms); !h)
        return Err(h.error());
    return std::unique_ptr<ByteStream>(std::move(stream).value());
}

Result<std::unique_ptr<ByteStream>, std::string> tls_connect(std::unique_ptr<ByteStream> plain,
                                                             const Key& expected_server_key, int timeout_ms)
{
    if (!expected_server_key)
        return Err(std::string("TLS connect: no upstream key configured"));
    ERR_clear_error();
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr)
        return Err(openssl_error("TLS client context"));
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_security_level(ctx, kSecurityLevel);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_chain);
    auto stream = make_stream(ctx, std::move(plain));
    SSL_CTX_free(ctx); // each SSL holds its own reference
    if (!stream)
        return Err(stream.error());
    SSL_set_connect_state((*stream)->ssl());
    if (auto h = (*stream)->handshake(timeout_ms); !h)
        return Err(h.error());
    X509* peer = SSL_get1_peer_certificate((*stream)->ssl());
    EVP_PKEY* peer_key = peer != nullptr ? X509_get0_pubkey(peer) : nullptr;
    const bool same = peer_key != nullptr && EVP_PKEY_eq(peer_key, expected_server_key.get()) == 1;
    X509_free(peer);
    ERR_clear_error();
    if (!same)
        return Err(std::string("upstream TLS key is not the configured key"));
    return std::unique_ptr<ByteStream>(std::move(stream).value());
}

} // namespace idpath::crypto
