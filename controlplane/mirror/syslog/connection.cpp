#include "controlplane/mirror/syslog/connection.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "controlplane/mirror/syslog/tls_context.hpp"

namespace idpath::mirror::syslog {

namespace {

using Clock = std::chrono::steady_clock;

/// TLS records are cut from the batch in pieces of this size: large writes, bounded memory.
constexpr std::size_t kTlsChunk = 256 * 1024;

/// TLS 1.3: how long to wait after our Finished for the server's verdict (see settle()).
constexpr auto kSettle = std::chrono::milliseconds(250);

/// Waits in poll() for `events` until `deadline`: the revents, 0 on timeout, -1 on error.
int wait_for(int fd, short events, Clock::time_point deadline)
{
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(std::clamp<long long>(left, 0, 1 << 30)));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return rc;
        return p.revents;
    }
}

std::string address_text(const sockaddr* sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    std::uint16_t port = 0;
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        return "[" + std::string(host) + "]:" + std::to_string(port);
    }
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
    port = ntohs(in4->sin_port);
    return std::string(host) + ":" + std::to_string(port);
}

/// Non-blocking connect to one address within `deadline`; the socket or the reason.
Result<socket::UniqueFd, std::string> connect_one(const addrinfo& ai, Clock::time_point deadline)
{
    socket::UniqueFd fd(::socket(ai.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Err(std::string(std::strerror(errno)));
    if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            return Err(std::string(std::strerror(errno)));
        const int ready = wait_for(fd.get(), POLLOUT, deadline);
        if (ready == 0)
            return Err(std::string("timed out"));
        if (ready < 0)
            return Err(std::string(std::strerror(errno)));
        int error = 0;
        socklen_t len = sizeof error;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0)
            error = errno;
        if (error != 0)
            return Err(std::string(std::strerror(error)));
    }
    // Batches go out in large writes: nothing to gain from Nagle, only a delayed last segment.
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // An idle connection to a receiver that vanished is found by the kernel, not by a batch.
    ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    return fd;
}

bool is_ip_address(const std::string& name)
{
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

} // namespace

Result<std::unique_ptr<Connection>, std::string> Connection::open(const ConnectOptions& options)
{
    const auto deadline = Clock::now() + options.timeout;
    const std::string where = options.host + ":" + std::to_string(options.port);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &found);
        rc != 0)
        return Err("syslog: resolve " + where + ": " + ::gai_strerror(rc));
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);

    std::string reasons;
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        auto fd = connect_one(*ai, deadline);
        if (!fd) {
            reasons += (reasons.empty() ? "" : "; ") + address_text(ai->ai_addr) + ": " + fd.error();
            continue;
        }
        std::unique_ptr<Connection> connection(new Connection(std::move(fd.value())));
        if (options.tls != nullptr) {
            if (auto shaken = connection->handshake(options, deadline); !shaken)
                return Err("syslog: " + address_text(ai->ai_addr) + ": " + shaken.error());
        }
        return connection;
    }
    return Err("syslog: connect " + where + ": " + (reasons.empty() ? std::string("no address") : reasons));
}

Connection::~Connection()
{
    if (ssl_ != nullptr && healthy_) {
        // Best effort: a close_notify in one non-blocking send, so the receiver logs a clean close.
        ERR_clear_error();
        if (SSL_shutdown(ssl_) >= 0) {
            char* data = nullptr;
            const long size = BIO_get_mem_data(out_, &data);
            if (size > 0)
                (void)::send(fd_.get(), data, static_cast<std::size_t>(size), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        ERR_clear_error();
    }
    SSL_free(ssl_);
}

Result<void, std::string> Connection::handshake(const ConnectOptions& options, Clock::time_point deadline)
{
    healthy_ = false;
    ERR_clear_error();
    ssl_ = SSL_new(options.tls);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
        BIO_free(in_);
        BIO_free(out_);
        in_ = out_ = nullptr;
        return Err("tls: cannot create a session: " + take_openssl_errors());
    }
    BIO_set_mem_eof_return(in_, -1); // empty means "wait for more", not end of stream
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_connect_state(ssl_);

    const std::string& name = options.server_name.empty() ? options.host : options.server_name;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (is_ip_address(name)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1)
            return Err("tls: cannot check the server's address " + name);
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) != 1 ||
            SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1)
            return Err("tls: cannot check the server's name " + name);
    }

    for (;;) {
        ERR_clear_error();
        const int rc = SSL_do_handshake(ssl_);
        const int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
        const std::string reason = error == SSL_ERROR_NONE || error == SSL_ERROR_WANT_READ ? "" : take_openssl_errors();
        // Our next flight, or the alert that tells the server why we gave up.
        const auto flushed = flush_tls(deadline);
        if (error == SSL_ERROR_NONE) {
            if (!flushed)
                return flushed;
            healthy_ = true;
            return settle(deadline);
        }
        if (error != SSL_ERROR_WANT_READ) {
            if (const long verify = SSL_get_verify_result(ssl_); verify != X509_V_OK)
                return Err("tls: server certificate for " + name + " refused: " +
                           X509_verify_cert_error_string(verify));
            return Err("tls: handshake with " + name + " failed: " + (reason.empty() ? "closed" : reason));
        }
        if (!flushed)
            return flushed;
        const int ready = wait_for(fd_.get(), POLLIN, deadline);
        if (ready == 0)
            return Err(std::string("tls: handshake timed out"));
        if (ready < 0)
            return Err("tls: handshake: " + std::string(std::strerror(errno)));
        char buf[16 * 1024];
        const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0)
            return Err(std::string("tls: closed by the server during the handshake"));
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            return Err("tls: handshake: " + std::string(std::strerror(errno)));
        }
        BIO_write(in_, buf, static_cast<int>(n));
    }
}

Result<void, std::string> Connection::settle(Clock::time_point deadline)
{
    if (SSL_version(ssl_) != TLS1_3_VERSION)
        return {};
    const auto until = std::min(deadline, Clock::now() + kSettle);
    if (wait_for(fd_.get(), POLLIN, until) > 0 && peer_closed())
        return Err("tls: the server closed the connection after the handshake (client certificate refused?)");
    return {};
}

Result<void, std::string> Connection::send_all(std::string_view bytes, Clock::time_point deadline)
{
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const int ready = wait_for(fd_.get(), POLLOUT, deadline);
            if (ready == 0) {
                healthy_ = false;
                return Err(std::string("write timed out"));
            }
            if (ready < 0) {
                healthy_ = false;
                return Err("write: " + std::string(std::strerror(errno)));
            }
            continue; // POLLERR/POLLHUP: the next send() says why
        }
        healthy_ = false;
        return Err("write: " + std::string(n == 0 ? "no progress" : std::strerror(errno)));
    }
    return {};
}

Result<void, std::string> Connection::flush_tls(Clock::time_point deadline)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(out_, &data);
    if (size <= 0)
        return {};
    auto sent = send_all(std::string_view(data, static_cast<std::size_t>(size)), deadline);
    (void)BIO_reset(out_);
    return sent;
}

Result<void, std::string> Connection::write(std::string_view bytes, std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    if (ssl_ == nullptr)
        return send_all(bytes, deadline);
    while (!bytes.empty()) {
        const std::size_t chunk = std::min(bytes.size(), kTlsChunk);
        ERR_clear_error();
        const int rc = SSL_write(ssl_, bytes.data(), static_cast<int>(chunk));
        if (rc <= 0) {
            healthy_ = false;
            return Err("tls: write failed: " + take_openssl_errors());
        }
        bytes.remove_prefix(static_cast<std::size_t>(rc));
        if (auto sent = flush_tls(deadline); !sent)
            return sent;
    }
    return {};
}

bool Connection::peer_closed()
{
    if (!healthy_)
        return true;
    // Bounded: a receiver that streams data at us is not a syslog receiver; give up on it.
    for (int round = 0; round < 64; ++round) {
        pollfd p{fd_.get(), POLLIN | POLLRDHUP, 0};
        const int rc = ::poll(&p, 1, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            return false;
        if (rc < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0)
            break;
        char buf[16 * 1024];
        const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (ssl_ == nullptr)
            continue; // nothing to understand in it
        // TLS 1.3 session tickets, key updates, alerts: let OpenSSL consume them.
        BIO_write(in_, buf, static_cast<int>(n));
        for (;;) {
            ERR_clear_error();
            const int r = SSL_read(ssl_, buf, sizeof buf);
            if (r > 0)
                continue;
            if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) {
                ERR_clear_error();
                healthy_ = false;
                return true; // close_notify or a fatal alert
            }
            break;
        }
        if (!flush_tls(Clock::now() + std::chrono::milliseconds(100)))
            return true;
    }
    healthy_ = false;
    return true;
}

} // namespace idpath::mirror::syslog
