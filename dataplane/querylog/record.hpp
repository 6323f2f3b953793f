#pragma once
/// The fixed-size record a serving thread writes per query (DESIGN.md section 6), and the
/// heartbeat it writes every few seconds so the platform sees gaps. Plain data: written on the
/// hot path into an SPSC ring (spsc_ring.hpp), encoded off it by controlplane/mirror.
///
/// One layout for both kinds so a ring holds either; 256 octets, four cache lines, so a ring
/// slot never straddles a line it shares with another slot. The field-by-field meaning, and the
/// encoded forms derived from it, are in docs/log-schema.md.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace idpath::querylog {

enum class Kind : std::uint8_t { Query = 1, Heartbeat = 2 };
enum class Transport : std::uint8_t { Udp = 1, Tcp = 2 };
/// What the node did with the request. Denied and RateLimited are reserved (no ACL or rate
/// limit yet); the field is in the schema so platforms need not change when they come.
/// Recursed: a recursive node's miss handed to its resolver threads (no answer from this thread).
/// Resolved: a resolver thread's answer to such a miss (time_ns the request's arrival, so the
/// latency covers the whole resolution).
enum class Action : std::uint8_t { Allowed = 0, Denied = 1, RateLimited = 2, Recursed = 3, Resolved = 4 };

/// Record::flags bits.
inline constexpr std::uint8_t kFlagHandleTruncated = 0x01; // handle longer than kHandleBytes
inline constexpr std::uint8_t kFlagMultiDatagramRequest = 0x02;
inline constexpr std::uint8_t kFlagMalformed = 0x04;        // answered RC_PROTOCOL_ERROR or silenced
inline constexpr std::uint8_t kFlagOversize = 0x08;         // answer did not fit; an error went instead

inline constexpr std::size_t kRecordSize = 256;
inline constexpr std::size_t kHandleBytes = 168;

struct alignas(64) Record {
    /// Per source, from 1, one per record produced, lost ones included: a gap in what arrives
    /// is exactly the records lost on the way.
    std::uint64_t seq;
    /// CLOCK_REALTIME nanoseconds at the request's receive burst (Query), or when written
    /// (Heartbeat).
    std::uint64_t time_ns;
    /// From receive to the reply handed to the transport; 0 when there was no reply.
    std::uint32_t latency_ns;
    std::uint16_t source;     // serving thread: DPDK lcore index or socket thread index
    Kind kind;
    std::uint8_t family;      // 4 or 6
    Transport transport;
    Action action;
    std::uint8_t silence;     // resolve::Silence: why no answer (0: answered)
    std::uint8_t flags;       // kFlag*
    std::uint32_t opcode;
    std::uint32_t response_code;
    std::uint32_t request_bytes;  // Handle message octets received (envelope included)
    std::uint32_t response_bytes; // octets sent, all datagrams' envelopes included
    std::uint16_t values;         // values in a success answer
    std::uint16_t datagrams;      // UDP datagrams of the answer (1 over TCP)
    std::uint16_t client_port;
    std::uint16_t server_port;
    std::uint8_t client[16];      // IPv4 as ::ffff:a.b.c.d
    std::uint8_t server[16];
    std::uint16_t handle_length;  // the handle's full length (Query)
    std::uint8_t handle_stored;   // octets of it in `handle` (<= kHandleBytes)
    std::uint8_t reserved;
    /// Query: the handle as the client sent it (not normalized). Heartbeat: a HeartbeatBody.
    std::uint8_t handle[kHandleBytes];
};
static_assert(sizeof(Record) == kRecordSize);

/// The counters a Heartbeat carries (in Record::handle): cumulative since the source started.
struct HeartbeatBody {
    std::uint64_t produced; // records this source produced (== its last seq)
    std::uint64_t lost;     // of which lost because the ring was full
};
static_assert(sizeof(HeartbeatBody) <= kHandleBytes);

inline HeartbeatBody heartbeat_body(const Record& r) noexcept
{
    HeartbeatBody b;
    std::memcpy(&b, r.handle, sizeof b);
    return b;
}

inline void set_heartbeat_body(Record& r, const HeartbeatBody& b) noexcept
{
    std::memcpy(r.handle, &b, sizeof b);
}

/// Copies `handle` (at most kHandleBytes of it) and sets the length fields and truncation flag.
inline void set_handle(Record& r, const std::uint8_t* data, std::size_t size) noexcept
{
    const std::size_t stored = size < kHandleBytes ? size : kHandleBytes;
    std::memcpy(r.handle, data, stored);
    r.handle_stored = static_cast<std::uint8_t>(stored);
    r.handle_length = static_cast<std::uint16_t>(size > 0xffff ? 0xffff : size);
    if (stored < size)
        r.flags |= kFlagHandleTruncated;
}

} // namespace idpath::querylog
