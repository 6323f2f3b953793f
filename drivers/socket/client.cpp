#include "drivers/socket/client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/fragment.hpp"
#include "drivers/socket/clock.hpp"
#include "drivers/socket/reply_collector.hpp"
#include "drivers/socket/socket_setup.hpp"
#include "drivers/socket/tcp_framer.hpp"

namespace idpath::socket {

namespace {

// Large enough for any datagram: replies are 512 octets at most by the protocol, but a server
// that ignores that limit should be reported, not silently truncated.
constexpr std::size_t kReceiveBuffer = 65536;

// Internal steps report failure as an optional error rather than a Result, so callers can pass
// it on without copying out of a Result.
using Failure = std::optional<ClientError>;

ClientError error(ClientError::Kind kind, std::string message)
{
    return ClientError{kind, std::move(message)};
}

ClientError network(const std::string& what, const std::string& peer, int err)
{
    return error(ClientError::Kind::Network, what + " " + peer + ": " + errno_text(err));
}

std::uint64_t deadline_after(int timeout_ms) noexcept
{
    return monotonic_ms() + static_cast<std::uint64_t>(std::max(timeout_ms, 1));
}

/// When an exchange gives up: at `at_ms` (monotonic), or as soon as `*cancel` is set.
struct Deadline {
    std::uint64_t at_ms = 0;
    const std::atomic<bool>* cancel = nullptr;

    bool cancelled() const noexcept { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }
};

int remaining_ms(std::uint64_t deadline_ms) noexcept
{
    const std::uint64_t now = monotonic_ms();
    return deadline_ms > now ? static_cast<int>(deadline_ms - now) : 0;
}

constexpr int kWaitCancelled = -2;

/// Waits for `events` on `fd` until the deadline: 1 ready, 0 timed out, -1 error (errno),
/// kWaitCancelled when the deadline's flag was set.
int wait_for(int fd, short events, Deadline deadline) noexcept
{
    for (;;) {
        if (deadline.cancelled())
            return kWaitCancelled;
        const int left = remaining_ms(deadline.at_ms);
        const int slice = deadline.cancel != nullptr ? std::min(left, kCancelCheckMs) : left;
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, slice);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && slice < left)
            continue; // a slice ended, not the deadline
        return r;
    }
}

ClientError cancelled(const std::string& peer)
{
    return ClientError{ClientError::Kind::Cancelled, "exchange with " + peer + " cancelled"};
}

double elapsed_ms(std::uint64_t since_us) noexcept
{
    return static_cast<double>(monotonic_us() - since_us) / 1000.0;
}

std::string peer_of(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return "server";
    return endpoint_from(reinterpret_cast<const sockaddr*>(&ss), len).to_string();
}

QueryResult result_of(const ReplyCollector& c, std::uint64_t since_us)
{
    QueryResult r;
    r.message = c.message();
    r.envelope = c.envelope();
    r.datagrams = c.datagrams();
    r.bytes = c.bytes();
    r.rtt_ms = elapsed_ms(since_us);
    return r;
}

/// The datagrams of a request: itself, or 492-octet chunks behind copies of its envelope.
std::vector<std::vector<std::uint8_t>> split_request(ByteSpan request)
{
    const ByteSpan message = request.subspan(wire::kEnvelopeSize);
    const std::uint32_t count = wire::datagram_count(message.size());
    std::vector<std::vector<std::uint8_t>> out;
    if (count == 1) {
        out.emplace_back(request.begin(), request.end());
        return out;
    }
    const std::span<const std::uint8_t, wire::kEnvelopeSize> base(request.data(),
                                                                  wire::kEnvelopeSize);
    for (std::uint32_t k = 0; k < count; ++k) {
        const ByteSpan chunk = wire::fragment_payload(message, k);
        std::vector<std::uint8_t> d(wire::kEnvelopeSize + chunk.size());
        wire::fragment_envelope(
            base, k, count,
            std::span<std::uint8_t, wire::kEnvelopeSize>(d.data(), wire::kEnvelopeSize));
        std::memcpy(d.data() + wire::kEnvelopeSize, chunk.data(), chunk.size());
        out.push_back(std::move(d));
    }
    return out;
}

Failure exchange_udp(const QueryOptions& o, ByteSpan request, std::uint32_t id, QueryResult& out)
{
    const std::string peer = o.server.to_string();
    UniqueFd fd(::socket(o.server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return network("socket for", peer, errno);
    // Connected: the kernel drops datagrams from anyone else and reports "port unreachable".
    if (::connect(fd.get(), o.server.addr(), o.server.length) != 0)
        return network("connect", peer, errno);
    const auto datagrams = split_request(request);
    ReplyCollector collector(id);
    std::vector<std::uint8_t> buf(kReceiveBuffer);
    const int tries = std::max(o.udp_tries, 1);
    for (int attempt = 0; attempt < tries; ++attempt) {
        // Datagrams of an earlier try's reply still count: the reply to a retry is the same.
        const std::uint64_t sent_us = monotonic_us();
        for (const auto& d : datagrams) {
            if (::send(fd.get(), d.data(), d.size(), 0) < 0)
                return network("send to", peer, errno);
        }
        const Deadline deadline{deadline_after(o.timeout_ms), o.cancel};
        for (;;) {
            const int ready = wait_for(fd.get(), POLLIN, deadline);
            if (ready == kWaitCancelled)
                return cancelled(peer);
            if (ready < 0)
                return network("poll", peer, errno);
            if (ready == 0)
                break;
            const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                return network("receive from", peer, errno);
            }
            if (collector.add(ByteSpan{buf.data(), static_cast<std::size_t>(n)}) ==
                ReplyCollector::Status::Complete) {
                out = result_of(collector, sent_us);
                return std::nullopt;
            }
        }
    }
    return error(ClientError::Kind::Timeout, "no reply from " + peer + " (UDP) after " +
                                                 std::to_string(tries) +
                                                 (tries == 1 ? " try" : " tries") + " of " +
                                                 std::to_string(o.timeout_ms) + " ms");
}

Failure connect_tcp(const Endpoint& server, Deadline deadline, UniqueFd& out)
{
    const std::string peer = server.to_string();
    UniqueFd fd(::socket(server.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid())
        return network("socket for", peer, errno);
    if (::connect(fd.get(), server.addr(), server.length) != 0) {
        if (errno != EINPROGRESS)
            return network("connect", peer, errno);
        const int ready = wait_for(fd.get(), POLLOUT, deadline);
        if (ready == kWaitCancelled)
            return cancelled(peer);
        if (ready < 0)
            return network("poll", peer, errno);
        if (ready == 0)
            return error(ClientError::Kind::Timeout, "connect " + peer + ": timed out");
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0)
            return network("connect", peer, err);
    }
    const int one = 1;
    (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    out = std::move(fd);
    return std::nullopt;
}

Failure send_all(int fd, ByteSpan bytes, Deadline deadline)
{
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const int ready = wait_for(fd, POLLOUT, deadline);
            if (ready == kWaitCancelled)
                return cancelled(peer_of(fd));
            if (ready == 0)
                return error(ClientError::Kind::Timeout,
                             "timed out sending to " + peer_of(fd) + " (TCP)");
            if (ready > 0)
                continue;
        }
        return network("send to", peer_of(fd), errno);
    }
    return std::nullopt;
}

/// Reads exactly out.size() octets before the deadline.
Failure read_exact(int fd, MutableByteSpan out, Deadline deadline, const std::string& peer)
{
    std::size_t have = 0;
    while (have < out.size()) {
        const int ready = wait_for(fd, POLLIN, deadline);
        if (ready == kWaitCancelled)
            return cancelled(peer);
        if (ready < 0)
            return network("poll", peer, errno);
        if (ready == 0)
            return error(ClientError::Kind::Timeout, "timed out waiting for " + peer + " (TCP)");
        const ssize_t n = ::recv(fd, out.data() + have, out.size() - have, 0);
        if (n == 0)
            return error(ClientError::Kind::Network, "connection closed by server " + peer);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return network("receive from", peer, errno);
        }
        have += static_cast<std::size_t>(n);
    }
    return std::nullopt;
}

Failure receive_tcp(int fd, std::uint32_t id, Deadline deadline, std::uint64_t since_us,
                    QueryResult& out)
{
    const std::string peer = peer_of(fd);
    ReplyCollector collector(id);
    std::vector<std::uint8_t> frame;
    for (;;) {
        frame.resize(wire::kEnvelopeSize);
        if (Failure f = read_exact(fd, frame, deadline, peer))
            return f;
        const auto env = wire::decode_envelope(frame);
        if (!env)
            return error(ClientError::Kind::Malformed, "unreadable envelope from " + peer);
        const std::size_t payload = TcpFramer::payload_length(*env);
        if (env->message_length < wire::kHeaderSize || payload == 0)
            return error(ClientError::Kind::Malformed, "bad MessageLength " +
                                                           std::to_string(env->message_length) +
                                                           " from " + peer);
        frame.resize(wire::kEnvelopeSize + payload);
        if (Failure f =
                read_exact(fd, MutableByteSpan(frame).subspan(wire::kEnvelopeSize), deadline, peer))
            return f;
        // Frames answering other requests (pipelining) are skipped.
        if (collector.add(frame) == ReplyCollector::Status::Complete) {
            out = result_of(collector, since_us);
            return std::nullopt;
        }
    }
}

} // namespace

Result<TcpConnection, ClientError> TcpConnection::open(const Endpoint& server, int timeout_ms)
{
    UniqueFd fd;
    if (Failure f = connect_tcp(server, Deadline{deadline_after(timeout_ms)}, fd))
        return Err{std::move(*f)};
    return TcpConnection(std::move(fd));
}

Result<bool, ClientError> TcpConnection::send(ByteSpan bytes, int timeout_ms)
{
    if (Failure f = send_all(fd_.get(), bytes, Deadline{deadline_after(timeout_ms)}))
        return Err{std::move(*f)};
    return true;
}

Result<QueryResult, ClientError> TcpConnection::receive(std::uint32_t request_id, int timeout_ms)
{
    QueryResult out;
    if (Failure f =
            receive_tcp(fd_.get(), request_id, Deadline{deadline_after(timeout_ms)}, monotonic_us(), out))
        return Err{std::move(*f)};
    return out;
}

Result<QueryResult, ClientError> exchange(const QueryOptions& options, ByteSpan request)
{
    if (request.size() < wire::kEnvelopeSize + wire::kHeaderSize)
        return Err{
            error(ClientError::Kind::Request, "request shorter than an envelope and a header")};
    const std::uint32_t id = load_be32(request.data() + 8);
    QueryResult out;
    if (!options.tcp) {
        if (Failure f = exchange_udp(options, request, id, out))
            return Err{std::move(*f)};
        return out;
    }
    const Deadline deadline{deadline_after(options.timeout_ms), options.cancel};
    UniqueFd fd;
    if (Failure f = connect_tcp(options.server, deadline, fd))
        return Err{std::move(*f)};
    const std::uint64_t started_us = monotonic_us(); // the round trip, not the handshake
    if (Failure f = send_all(fd.get(), request, deadline))
        return Err{std::move(*f)};
    if (Failure f = receive_tcp(fd.get(), id, deadline, started_us, out))
        return Err{std::move(*f)};
    return out;
}

} // namespace idpath::socket
