#pragma once
/// A serving thread's front end to resolve(): turns UDP payloads and TCP frames into replies,
/// reassembling multi-datagram requests and enforcing the UDP size policy. One per thread;
/// every kernel-socket or DPDK transport drives one of these and only moves bytes.
///
/// on_udp() and on_tcp() never allocate (the reply buffer is allocated at construction), except
/// inside the bounded reassembler for the rare multi-datagram request.

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/base/bytes.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/resolver.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/reassembly.hpp"

namespace idpath::resolve {

class Responder {
public:
    Responder(PolicyRef policy, ResolveStats& stats, wire::ReassemblyLimits limits = {});

    /// A reply: envelope + whole message in one buffer, and how many UDP datagrams it takes.
    /// Valid until the next call.
    struct Reply {
        ByteSpan bytes;
        std::uint32_t datagrams = 0;
        /// What was decided on the request this call completed, answered or silenced (for the
        /// query log; its `handle` points into the request); null when the call completed none:
        /// a chunk of a multi-datagram request kept for reassembly, or one the reassembler
        /// refused.
        const Outcome* outcome = nullptr;
        /// Recursive role: nothing to send now; the request goes to the resolver threads.
        bool punt = false;
        bool empty() const noexcept { return bytes.empty(); }
    };

    /// One UDP payload from `src`. `now_ms` is a monotonic clock for reassembly timeouts.
    Reply on_udp(const table::Table& table, const wire::SourceKey& src, ByteSpan payload,
                 std::uint32_t now_unix, std::uint64_t now_ms) noexcept;

    /// Datagram k of the last UDP reply: its envelope (written to `envelope`) and payload.
    ByteSpan udp_datagram(std::uint32_t k, std::span<std::uint8_t, wire::kEnvelopeSize> envelope) const noexcept;

    /// One TCP frame: `envelope` decoded, `message` its MessageLength octets; `reassembled`
    /// when the caller put the message together from several chunk frames. TCP answers are
    /// never split. With set_can_punt(true) a miss of an unreassembled request punts, as on_udp;
    /// `punt_room` false says the caller cannot take it now (its queue is full, or the request
    /// is too large for a slot): the miss is counted in punted and punt_dropped and answered
    /// from the table alone, since a TCP client would otherwise wait for nothing.
    Reply on_tcp(const table::Table& table, const wire::Envelope& envelope, ByteSpan message,
                 std::uint32_t now_unix, bool reassembled = false, bool punt_room = true) noexcept;

    void expire(std::uint64_t now_ms) { reassembler_.expire(now_ms); }
    /// Lets on_udp() and on_tcp() punt misses of requests that came whole (the caller has a
    /// miss ring or punt queue).
    void set_can_punt(bool on) noexcept { can_punt_ = on; }
    const wire::Reassembler& reassembler() const noexcept { return reassembler_; }

private:
    /// Counts `o`, keeps it (Reply::outcome points at it) and returns its reply.
    Reply finish(const Outcome& o, bool udp, std::size_t request_bytes, bool reassembled) noexcept;

    PolicyRef policy_;
    ResolveStats& stats_;
    wire::Reassembler reassembler_;
    std::unique_ptr<std::uint8_t[]> out_;
    Reply last_;
    Outcome outcome_;
    bool can_punt_ = false;
};

} // namespace idpath::resolve
