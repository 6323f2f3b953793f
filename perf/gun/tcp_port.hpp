#pragma once
/// A kernel TCP connection to the server carrying pipelined requests: frames (envelope + whole
/// message, never split: handle-protocol.md 1.12) are queued and written as the socket takes
/// them; answers are cut out of the byte stream by their MessageLength.
/// Thread-safety: one thread. Hot path: no allocation after open().

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/constants.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/unique_fd.hpp"
#include "perf/gun/io_result.hpp"

namespace idpath::gun {

class TcpPort {
public:
    static constexpr std::size_t kBurst = 32;
    /// True: an error loses the connection, and with it every query in flight on it.
    static constexpr bool kStream = true;
    /// Queued output; a send() that does not fit takes fewer frames.
    static constexpr std::size_t kOutputBuffer = 1u << 20;
    /// Input: room for two of the largest frames, so one always fits after compaction.
    static constexpr std::size_t kInputBuffer = 2 * (wire::kEnvelopeSize + wire::kMaxMessageLength);

    /// Connects (waiting at most `timeout_ms`), with TCP_NODELAY. Errors name the step and errno.
    static Result<TcpPort, std::string> open(const socket::Endpoint& server, std::uint32_t timeout_ms);
    /// Drops the connection and connects again, buffers emptied. False, with `error` set, when
    /// that failed.
    bool reconnect(std::string& error);

    int fd() const noexcept { return fd_.get(); }
    bool wants_write() const noexcept { return out_tail_ > out_head_; }

    /// Queues frames and writes what the socket takes. count: frames queued (all unless the
    /// output buffer is full); error: the connection failed.
    IoResult send(std::span<const ByteSpan> frames) noexcept;
    /// Writes queued output.
    IoResult flush() noexcept;
    /// Reads what has arrived and returns up to out.size() complete frames, valid until the
    /// next call. error: the server closed (ECONNRESET), the stream lost framing (EPROTO), or
    /// another errno.
    IoResult receive(std::span<ByteSpan> out) noexcept;

private:
    TcpPort(const socket::Endpoint& server, socket::UniqueFd fd, std::uint32_t timeout_ms);

    socket::Endpoint server_;
    socket::UniqueFd fd_;
    std::uint32_t timeout_ms_;
    std::unique_ptr<std::uint8_t[]> out_;
    std::size_t out_head_ = 0; // written up to here
    std::size_t out_tail_ = 0; // queued up to here
    std::unique_ptr<std::uint8_t[]> in_;
    std::size_t in_head_ = 0; // frames handed out up to here
    std::size_t in_tail_ = 0; // received up to here
};

} // namespace idpath::gun
