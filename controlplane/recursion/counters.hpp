#pragma once
/// Per-engine counters of the recursive role, readable at any time as one JSON object.
/// Thread-safety: relaxed atomics; a snapshot is not one instant across counters.

#include <atomic>
#include <cstdint>
#include <string>

namespace idpath::recursion {

struct Counters {
    std::atomic<std::uint64_t> queries{0};       // resolve() calls
    std::atomic<std::uint64_t> cache_hits{0};    // answered from the answer cache (any code)
    std::atomic<std::uint64_t> negative_hits{0}; // of which cached not-found answers
    std::atomic<std::uint64_t> coalesced{0};     // waited for an identical question in flight
    std::atomic<std::uint64_t> upstream_udp{0};  // exchanges started, by transport
    std::atomic<std::uint64_t> upstream_tcp{0};
    std::atomic<std::uint64_t> timeouts{0};     // exchanges that got no reply in time
    std::atomic<std::uint64_t> referrals{0};    // 302/303 replies followed
    std::atomic<std::uint64_t> service_hits{0}; // prefix sites found in the service cache
    std::atomic<std::uint64_t> bad_hash{0};     // a site's hash chose no server (INT32_MIN)
    std::atomic<std::uint64_t> errors{0};       // resolutions that ended without an answer
    std::atomic<std::uint64_t> authoritative{0}; // AT questions: caches bypassed, primaries asked

    static void bump(std::atomic<std::uint64_t>& c) noexcept
    {
        c.fetch_add(1, std::memory_order_relaxed);
    }

    /// {"queries":N,"cache_hits":N,...}
    std::string to_json() const;
};

} // namespace idpath::recursion
