#pragma once
/// Cuts a TCP byte stream into Handle frames: a 20-octet envelope, then MessageLength octets
/// (HANDLE.NET never splits a message over TCP), or, when the envelope has TC set and
/// MessageLength is above 492, the 492-octet chunk its SequenceNumber implies (the
/// multi-envelope form some Chinese SDKs use; the caller reassembles those).
///
/// Memory: nothing until the first read; then a small buffer, grown to exactly one frame when a
/// larger one arrives and released again once it is consumed. At most 20 + max_message octets.
/// Thread-safety: one instance per connection, one thread.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::socket {

class TcpFramer {
public:
    enum class Status : std::uint8_t {
        NeedMore,  // read more, into space()
        Frame,     // a complete frame: see envelope() and payload()
        Malformed, // unreadable envelope, MessageLength below one header, or a chunk out of range
        TooLarge,  // MessageLength above max_message
    };

    /// Small frames share a buffer this size; larger ones get a buffer of their own.
    static constexpr std::size_t kSmallBuffer = 4096;

    explicit TcpFramer(std::size_t max_message) noexcept : max_message_(max_message) {}

    /// Where to read into next. Empty only while a complete frame waits to be pop()ped.
    /// Allocates (the first time, or to grow for one large frame).
    MutableByteSpan space();
    /// `n` octets were read into space().
    void commit(std::size_t n) noexcept { end_ += n; }

    /// Looks at the frame at the front. After Frame, envelope() and payload() describe it until
    /// pop(). Malformed and TooLarge are final: the stream cannot be resynchronised.
    Status next() noexcept;
    const wire::Envelope& envelope() const noexcept { return envelope_; }
    ByteSpan payload() const noexcept { return payload_; }
    /// Discards the frame next() returned.
    void pop() noexcept;

    /// Octets buffered and not yet consumed (a partial frame, or frames not yet handled).
    std::size_t buffered() const noexcept { return end_ - begin_; }
    /// Octets of memory held.
    std::size_t capacity() const noexcept { return capacity_; }

    /// Octets of payload that follow an envelope on TCP: MessageLength, or the chunk size for a
    /// TC chunk. 0 when the envelope is inconsistent (chunk beyond MessageLength).
    static std::size_t payload_length(const wire::Envelope& e) noexcept;

private:
    /// Size of the frame at the front, once its envelope is buffered (0 before).
    Status front(std::size_t& frame_size) noexcept;

    std::size_t max_message_;
    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t frame_size_ = 0; // of the frame next() returned
    wire::Envelope envelope_;
    ByteSpan payload_;
};

} // namespace idpath::socket
