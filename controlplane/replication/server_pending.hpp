#pragma once
/// The challenges a replication server (repl_server.hpp) has sent and not yet seen answered,
/// keyed by the envelope session id the 402 carried: HANDLE.NET matches the 200 to the original
/// request by that id only (research7 section 2). Bounded (the oldest is dropped at the limit)
/// and expiring; a challenge is taken at most once, so an answer cannot be replayed.
/// Thread-safety: every method locks; any thread.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "controlplane/replication/repl_wire.hpp"
#include "dataplane/wire/envelope.hpp"

namespace idpath::replication {

struct PendingChallenge {
    wire::Envelope envelope;           // of the original request
    std::vector<std::uint8_t> message; // the original request: header + body + credential
    Challenge challenge;
    std::uint64_t created_ms = 0;      // monotonic
};

class PendingChallenges {
public:
    PendingChallenges(std::size_t capacity, std::uint64_t ttl_ms) : capacity_(capacity), ttl_ms_(ttl_ms) {}

    /// Stores `p` under a fresh random nonzero session id (none pending uses it) and returns it.
    std::uint32_t add(PendingChallenge p, std::uint64_t now_ms);
    /// Removes and returns the challenge sent with `session_id`, unless absent or expired.
    std::optional<PendingChallenge> take(std::uint32_t session_id, std::uint64_t now_ms);
    /// True when `session_id` names a live challenge (not removed).
    bool contains(std::uint32_t session_id, std::uint64_t now_ms);

    std::size_t size() const;
    /// Challenges forgotten unanswered: dropped at the limit or expired.
    std::uint64_t dropped() const;
    std::uint64_t expired() const;

private:
    void purge(std::uint64_t now_ms); // with mu_ held

    const std::size_t capacity_;
    const std::uint64_t ttl_ms_;
    mutable std::mutex mu_;
    std::unordered_map<std::uint32_t, PendingChallenge> by_id_;
    std::deque<std::uint32_t> order_; // oldest first; may name ids already taken
    std::uint64_t dropped_ = 0;
    std::uint64_t expired_ = 0;
};

} // namespace idpath::replication
