#pragma once
/// The OpenSSL client context of a TLS syslog sink (RFC 5425): built once when the sink is made,
/// so a missing or unreadable CA file, certificate or key is a configuration error at startup,
/// not a failure of every later connection.
///
/// The server's certificate must chain to `ca_file` (the system's trust store when empty);
/// its name is checked per connection (connection.hpp). TLS 1.2 at least.

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "dataplane/base/result.hpp"

namespace idpath::mirror::syslog {

struct TlsFiles {
    std::string ca_file;   // PEM CA certificates; empty: the system's default trust store
    std::string cert_file; // PEM client certificate (chain), optional
    std::string key_file;  // its PEM private key; empty: in cert_file
};

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

/// Errors name the file and OpenSSL's reason ("tls: ca_file /x/ca.pem: No such file ...").
Result<SslCtxPtr, std::string> make_tls_context(const TlsFiles& files);

/// Empties this thread's OpenSSL error queue into one line ("" when it was empty).
std::string take_openssl_errors();

} // namespace idpath::mirror::syslog
