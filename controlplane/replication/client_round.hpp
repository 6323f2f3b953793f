#pragma once
/// One authenticated request of the mirror (repl_client.hpp), as a HANDLE.NET 9.x mirror makes
/// it (research7 sections 1-4): the request on one TCP connection, the 402 challenge checked
/// against what we sent, the answer (OC_RESPONSE_TO_CHALLENGE) on a second connection, the
/// reply there, then the stream's transport: TLS pinned to the upstream key, or signed blocks.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/crypto/byte_stream.hpp"
#include "controlplane/replication/repl_client.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/header.hpp"

namespace idpath::replication::client {

/// What a failed round is counted as (status_json's counters).
enum class FailureKind : std::uint8_t { Connect, Auth, Stream, Timeout, Local };

struct RoundError {
    FailureKind kind = FailureKind::Stream;
    std::string message;
    std::uint32_t rc = 0; // the upstream's response code when it refused the request
};

/// Lets stop() cut a blocking socket wait short: a round attaches its socket, cancel() shuts it
/// down (the wait returns at once) and refuses later attaches until reset().
class Canceller {
public:
    bool attach(int fd);
    void detach();
    void cancel();
    void reset();
    bool cancelled() const;

private:
    mutable std::mutex mutex_;
    int fd_ = -1;
    bool cancelled_ = false;
};

/// A stream whose socket is attached to a Canceller until it is destroyed (detached first, so
/// cancel() never shuts down a descriptor number already reused).
class Connection {
public:
    Connection() = default;
    Connection(std::unique_ptr<crypto::ByteStream> stream, Canceller* canceller) noexcept
        : stream_(std::move(stream)), canceller_(canceller)
    {
    }
    ~Connection() { reset(); }
    Connection(Connection&& o) noexcept : stream_(std::move(o.stream_)), canceller_(o.canceller_)
    {
        o.canceller_ = nullptr;
    }
    Connection& operator=(Connection&& o) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    crypto::ByteStream* operator->() const noexcept { return stream_.get(); }
    crypto::ByteStream& operator*() const noexcept { return *stream_; }
    explicit operator bool() const noexcept { return stream_ != nullptr; }
    /// Hands the stream over (TLS wraps it); the socket stays attached: same descriptor.
    std::unique_ptr<crypto::ByteStream> take() noexcept { return std::move(stream_); }
    void put(std::unique_ptr<crypto::ByteStream> s) noexcept { stream_ = std::move(s); }
    void reset() noexcept;

private:
    std::unique_ptr<crypto::ByteStream> stream_;
    Canceller* canceller_ = nullptr;
};

struct Reply {
    wire::Header header;
    std::vector<std::uint8_t> body; // after the request-digest prefix, when there was one
    Connection stream;              // when asked for: the data after the reply (TLS or plain)
    bool signed_blocks = false;     // plain stream in signed blocks: verify with `hash_id`
    std::string hash_id;            // "SHA1"
};

/// Sends `opcode` with `body`, answers the challenge and returns the RC_SUCCESS reply; with
/// `open_stream` also reads the stream marker and starts TLS (or notes signed blocks).
Result<Reply, RoundError> authenticated_request(const ClientOptions& o, std::uint32_t opcode, ByteSpan body,
                                                bool open_stream, Canceller& canceller);

/// Classifies a ByteStream error text: "timeout" is a stall, anything else a stream error.
RoundError stream_error(std::string message);

} // namespace idpath::replication::client
