#pragma once
/// Puts one reply back together on the client side (handle-protocol.md section 1.12): every
/// datagram repeats the envelope with SequenceNumber k and MessageLength = the whole message,
/// and carries octets [k x 492, (k+1) x 492) of it. A reply that arrives as one datagram
/// holding the whole message is taken as is, however large. Over TCP the same rules apply to
/// frames (TC chunks from servers that fragment over TCP).
///
/// Memory: one MessageLength buffer (at most 256 KiB, the protocol's limit).
/// Thread-safety: one instance per exchange.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/envelope.hpp"

namespace idpath::socket {

class ReplyCollector {
public:
    enum class Status : std::uint8_t {
        Ignored,    // not a datagram of this reply: another RequestId, an unreadable envelope,
                    // a request, a chunk that disagrees with the first, or a duplicate
        Incomplete, // accepted; more to come
        Complete,   // message() holds the whole reply
    };

    explicit ReplyCollector(std::uint32_t request_id) noexcept : request_id_(request_id) {}

    /// One datagram (or TCP frame): envelope + payload.
    Status add(ByteSpan datagram);

    bool complete() const noexcept { return complete_; }
    /// The reassembled message (header + body + credential), once complete.
    const std::vector<std::uint8_t>& message() const noexcept { return message_; }
    /// The envelope of the reply (that of the first datagram accepted, SequenceNumber cleared).
    const wire::Envelope& envelope() const noexcept { return envelope_; }
    /// Datagrams accepted (duplicates excluded) and their octets, envelopes included.
    std::uint32_t datagrams() const noexcept { return datagrams_; }
    std::size_t bytes() const noexcept { return bytes_; }

private:
    std::uint32_t request_id_;
    bool started_ = false;
    bool complete_ = false;
    wire::Envelope envelope_;
    std::vector<std::uint8_t> message_;
    std::vector<bool> have_;
    std::uint32_t missing_ = 0;
    std::uint32_t datagrams_ = 0;
    std::size_t bytes_ = 0;
};

} // namespace idpath::socket
