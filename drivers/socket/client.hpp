#pragma once
/// A blocking Handle client: one request out, its reply back, over UDP (with retries and
/// multi-datagram reassembly) or TCP. For idpath-dig, tests and tools; never on a serving path.
/// Thread-safety: every call is independent; a TcpConnection belongs to one thread.

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/envelope.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::socket {

struct QueryOptions {
    Endpoint server;
    bool tcp = false;
    /// UDP: per try; TCP: for connect, send and receive together.
    int timeout_ms = 2000;
    /// UDP: sends of the whole request before giving up (HANDLE.NET retries too).
    int udp_tries = 3;
    /// When set (by another thread), the exchange gives up within kCancelCheckMs, failing with
    /// Kind::Cancelled: a stopping resolver does not sit out its timeouts. Null: never.
    const std::atomic<bool>* cancel = nullptr;
};

/// How often a cancellable exchange looks at its flag while it waits.
inline constexpr int kCancelCheckMs = 50;

struct QueryResult {
    /// The reply's message: header + body + credential, reassembled.
    std::vector<std::uint8_t> message;
    wire::Envelope envelope;
    /// UDP datagrams (or TCP frames) the reply came in, and their octets, envelopes included.
    std::uint32_t datagrams = 0;
    std::size_t bytes = 0;
    /// From sending the request (over UDP its last try; over TCP after connecting) to the
    /// reply's last octet.
    double rtt_ms = 0;
};

struct ClientError {
    enum class Kind : std::uint8_t {
        Network,   // socket errors, refused, reset, closed before the reply was complete
        Timeout,   // no (complete) reply in time
        Malformed, // a reply that cannot be framed (TCP)
        Request,   // the request itself is unusable (shorter than an envelope)
        Cancelled, // QueryOptions::cancel was set while it waited
    };
    Kind kind = Kind::Network;
    std::string message;
};

/// Sends `request` (envelope + message, as encode_request() builds it) and waits for the reply
/// with the same RequestId; datagrams with another RequestId are ignored. A request above 492
/// message octets is sent over UDP as several datagrams (RFC 3652 section 2.3.1).
Result<QueryResult, ClientError> exchange(const QueryOptions& options, ByteSpan request);

/// A client TCP connection, for several exchanges on one connection (pipelining).
class TcpConnection {
public:
    /// Connects within `timeout_ms`.
    static Result<TcpConnection, ClientError> open(const Endpoint& server, int timeout_ms);

    /// Writes all of `bytes` (any number of frames) within `timeout_ms`.
    Result<bool, ClientError> send(ByteSpan bytes, int timeout_ms);
    /// Reads frames until the reply to `request_id` is complete; frames for other ids are
    /// skipped. A server closing the connection first is a Network error ("closed by server").
    Result<QueryResult, ClientError> receive(std::uint32_t request_id, int timeout_ms);

    int fd() const noexcept { return fd_.get(); }

private:
    explicit TcpConnection(UniqueFd fd) noexcept : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace idpath::socket
