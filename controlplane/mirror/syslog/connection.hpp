#pragma once
/// One TCP connection to a syslog receiver, plain or TLS, with every step bounded in time:
/// non-blocking connect, handshake and writes wait in poll() for at most their deadline.
///
/// TLS runs over memory BIOs: OpenSSL encrypts into memory and this class moves the octets
/// with send(MSG_NOSIGNAL) and recv(), so a peer that went away is an EPIPE error here, never a
/// SIGPIPE that would kill idpathd, and plain and TLS share one socket path. The server's
/// certificate is verified against the context's CAs and `server_name` (a DNS name is also
/// sent as SNI; an IP address is checked against the certificate's IP entries).
///
/// Syslog receivers send nothing back but TLS handshake traffic and alerts, so whatever
/// arrives after the handshake is read only to notice a closed connection (peer_closed()).
/// Thread-safety: one thread at a time.

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dataplane/base/result.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::mirror::syslog {

struct ConnectOptions {
    std::string host; // name or address
    std::uint16_t port = 0;
    SSL_CTX* tls = nullptr;  // null: plain TCP
    std::string server_name; // TLS: the name the certificate must carry
    std::chrono::milliseconds timeout{5000}; // resolution excepted: connect + handshake
};

class Connection {
public:
    /// Connects to the first address of `host` that answers (each tried in turn within the one
    /// deadline), then shakes hands. Errors say which step failed and why.
    static Result<std::unique_ptr<Connection>, std::string> open(const ConnectOptions& options);

    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Sends all of `bytes` within `timeout`. After an error the connection is unusable (the
    /// peer may have received any prefix of `bytes`).
    Result<void, std::string> write(std::string_view bytes, std::chrono::milliseconds timeout);

    /// Without blocking: whether the peer has closed or reset the connection, or sent a TLS
    /// alert. Checked before each batch so a receiver that restarted is noticed before a
    /// batch is written into a dead connection's socket buffer.
    bool peer_closed();

    bool tls() const noexcept { return ssl_ != nullptr; }

private:
    explicit Connection(socket::UniqueFd fd) noexcept : fd_(std::move(fd)) {}

    using Clock = std::chrono::steady_clock;
    Result<void, std::string> handshake(const ConnectOptions& options, Clock::time_point deadline);
    /// In TLS 1.3 the client finishes its handshake before the server has checked the client's
    /// certificate: a refusal arrives as an alert after it, and a batch written at once would
    /// vanish into a connection the server is closing. So wait briefly for the server's first
    /// message (a session ticket, or the alert) before reporting the connection usable.
    Result<void, std::string> settle(Clock::time_point deadline);
    Result<void, std::string> send_all(std::string_view bytes, Clock::time_point deadline);
    /// Moves what OpenSSL wrote into its output BIO onto the socket.
    Result<void, std::string> flush_tls(Clock::time_point deadline);

    socket::UniqueFd fd_;
    SSL* ssl_ = nullptr; // owns both memory BIOs
    BIO* in_ = nullptr;  // socket -> OpenSSL
    BIO* out_ = nullptr; // OpenSSL -> socket
    /// False once a write failed or the peer left (and until the TLS handshake completes).
    bool healthy_ = true;
};

} // namespace idpath::mirror::syslog
