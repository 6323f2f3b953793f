#pragma once
/// Request -> response decisions, as a HANDLE.NET server makes them
/// (handle-protocol.md sections 1.8, 1.11, 1.14; docs/protocol.md for the choices idpath adds).
///
/// Pure: reads the request, the table and the policy, writes the reply into a caller buffer.
/// No allocation, locks, syscalls or exceptions; safe on the hot path.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/base/bytes.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::resolve {

/// Why a request got no answer at all. Silence is kept for input that cannot be answered
/// safely: no envelope to echo, or something that is not a request.
enum class Silence : std::uint8_t {
    None,         // answered
    BadEnvelope,  // shorter than an envelope, or a version we do not speak
    BadMessage,   // header or lengths unreadable: nothing trustworthy to echo
    NotARequest,  // ResponseCode != 0: a response sent to us, possibly reflected
    Count_
};

struct Outcome {
    Silence silence = Silence::None;
    std::uint32_t opcode = 0;
    std::uint32_t response_code = 0;
    std::uint32_t values = 0;      // values in a success answer
    /// Set when the request was malformed (answered RC_PROTOCOL_ERROR or silenced).
    bool malformed = false;
    /// Set when the answer did not fit the transport and an RC_ERROR went instead.
    bool oversize = false;
    /// Recursive role: the handle is not in the table and the request asked for recursion;
    /// nothing was written (size 0): the transport hands the request to the resolver threads.
    bool punt = false;
    wire::WireError wire_error = wire::WireError::Truncated;
    /// Envelope + message octets written to `out` (0 when silent).
    std::size_t size = 0;
    /// A RESOLUTION request's handle as the client sent it (not normalized): a span into the
    /// request, valid as long as the request is (for the Responder's callers: until its next
    /// call). Empty for other opcodes and for requests too broken to read it from.
    ByteSpan handle{};
    /// Set by the Responder: envelope + message octets of the request (a reassembled request
    /// counted as one message with one envelope).
    std::uint32_t request_bytes = 0;
    /// Set by the Responder: the request came in several datagrams (or TCP chunks), reassembled.
    bool multi_datagram = false;

    bool answered() const noexcept { return silence == Silence::None; }
};

struct RequestContext {
    /// Largest message the transport can carry back: Policy::max_udp_datagrams x 492 over UDP,
    /// kMaxMessageLength over TCP.
    std::size_t max_message_length = 0;
    /// Unix seconds now.
    std::uint32_t now = 0;
    /// True over UDP: an answer past max_message_length becomes "retry over TCP".
    bool udp = false;
    /// The transport can hand a miss to the resolver threads (Policy::recursive): a UDP thread
    /// with a miss ring, a DPDK worker with punt queues or the TCP thread with its punt queue,
    /// for requests that came whole (not reassembled from datagrams or chunks).
    bool can_punt = false;
};

/// Resolves one complete request message (`message`: MessageLength octets after `envelope`;
/// reassembled already if it came in several datagrams). Writes envelope + message of the
/// reply to `out`, which must hold at least 20 + max_message_length octets (kReplyBufferSize
/// always suffices).
Outcome resolve(const wire::Envelope& envelope, ByteSpan message, const table::Table& table,
                const Policy& policy, const RequestContext& ctx, MutableByteSpan out) noexcept;

/// An error reply with response code `rc` and message `text` to a request (what resolve()
/// writes for its own errors: same envelope, header and RD digest rules). For replies made off
/// the hot path (the recursive role's resolver threads). Silent when the request is unreadable.
Outcome answer_error(const wire::Envelope& envelope, ByteSpan message, const Policy& policy,
                     const RequestContext& ctx, wire::ResponseCode rc, std::string_view text,
                     MutableByteSpan out) noexcept;

/// A buffer this size holds any reply.
inline constexpr std::size_t kReplyBufferSize = wire::kEnvelopeSize + wire::kMaxMessageLength;

} // namespace idpath::resolve
