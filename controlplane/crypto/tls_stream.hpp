#pragma once
/// The TLS a HANDLE.NET 9.x primary starts on the replication connection after its reply
/// (research/handle-protocol.md section 1.15, "TLS\0"): the primary is the TLS server with a
/// self-signed certificate made from its Handle server key; the mirror is the TLS client and
/// accepts the certificate only when its public key is the upstream's configured key (there is
/// no CA: the key is the identity, as HANDLE.NET checks it against the site information).

#include <memory>
#include <string>

#include "controlplane/crypto/byte_stream.hpp"
#include "controlplane/crypto/keys.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::crypto {

/// A server-side TLS context: a self-signed X.509 certificate for `server_key`, made once.
class TlsServerContext {
public:
    static Result<std::shared_ptr<TlsServerContext>, std::string> make(const Key& server_key);
    ~TlsServerContext();
    /// Runs the handshake on `plain` (whose octets so far were the Handle reply and "TLS\0") as
    /// the server; the result wraps it.
    Result<std::unique_ptr<ByteStream>, std::string> accept(std::unique_ptr<ByteStream> plain, int timeout_ms);

    struct Impl;

private:
    explicit TlsServerContext(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Runs the client handshake on `plain` and checks that the server's certificate carries
/// `expected_server_key` (otherwise an error: "upstream TLS key is not the configured key").
Result<std::unique_ptr<ByteStream>, std::string> tls_connect(std::unique_ptr<ByteStream> plain,
                                                             const Key& expected_server_key, int timeout_ms);

} // namespace idpath::crypto

