#pragma once
/// Reassembly of multi-datagram UDP requests, bounded so hostile clients cannot exhaust it.
///
/// HANDLE.NET keys pending requests by (source, RequestId) and blocks a thread for up to 5 s per
/// request; a flood of first fragments stops its UDP service. Here state is bounded in entries,
/// bytes, entries per source and time, and nothing blocks: add() returns at once.
/// Thread-safety: one instance per thread. Not on the DPDK hot path (control plane / socket path).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/wire/envelope.hpp"

namespace idpath::wire {

struct ReassemblyLimits {
    std::size_t max_entries = 1024;               // requests being reassembled at once
    std::size_t max_bytes = 16u << 20;            // sum of their buffers
    std::size_t max_entries_per_source = 16;      // per source address
    std::size_t max_message_length = 64u << 10;   // a request larger than this is refused
    std::uint64_t timeout_ms = 2000;              // a partial request older than this is dropped
};

/// Identifies the sender: address (IPv4 as ::ffff:a.b.c.d or any fixed 16-octet form) and port.
struct SourceKey {
    std::array<std::uint8_t, 16> address{};
    std::uint16_t port = 0;
    bool operator==(const SourceKey&) const = default;
};

struct ReassemblyStats {
    Counter started;
    Counter completed;
    Counter duplicates;        // a chunk already received
    Counter inconsistent;      // chunk disagrees with the first (length, sequence range, size)
    Counter refused_too_large; // MessageLength above max_message_length
    Counter refused_full;      // entries, bytes or per-source limit reached
    Counter expired;           // timed out incomplete
};

class Reassembler {
public:
    /// Incomplete: the datagram was kept (or was an identical duplicate); Complete: `message`
    /// holds the whole request; Refused: the datagram was dropped (message too large, a limit
    /// reached, or inconsistent with what arrived before; ReassemblyStats says which).
    enum class Status : std::uint8_t { Incomplete, Complete, Refused };

    struct Outcome {
        Status status = Status::Incomplete;
        /// When Complete: the whole message, valid until the next call on this Reassembler.
        ByteSpan message;
        /// When Complete: the envelope of the request (sequence 0).
        Envelope envelope;
    };

    explicit Reassembler(ReassemblyLimits limits = {});
    ~Reassembler();
    Reassembler(const Reassembler&) = delete;
    Reassembler& operator=(const Reassembler&) = delete;

    /// Adds one datagram's envelope and payload (as decode_frame split them). A sequence-0
    /// payload holding the whole message completes at once; a datagram for a request that has
    /// timed out drops the old state and starts over.
    Outcome add(const SourceKey& src, const Envelope& env, ByteSpan payload, std::uint64_t now_ms);
    /// Drops partial requests older than the timeout. Call it from the receive loop.
    void expire(std::uint64_t now_ms);

    std::size_t pending() const noexcept;
    std::size_t pending_bytes() const noexcept;
    const ReassemblyStats& stats() const noexcept { return stats_; }

private:
    struct Entry;
    ReassemblyLimits limits_;
    std::vector<std::unique_ptr<Entry>> entries_;
    std::vector<std::uint8_t> done_; // the last completed message, owned until the next call
    std::size_t bytes_ = 0;
    ReassemblyStats stats_;
};

} // namespace idpath::wire
