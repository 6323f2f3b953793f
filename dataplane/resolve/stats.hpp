#pragma once
/// Per-thread counters of what the resolver and its transport did. One instance per serving
/// thread (written by it alone), read by the admin thread.

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/base/counter.hpp"
#include "dataplane/resolve/resolver.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::resolve {

/// Response codes get their own counter slot; others share the last one.
inline constexpr std::array<std::uint32_t, 16> kCountedResponseCodes = {
    1, 2, 3, 4, 5, 6, 100, 102, 200, 301, 302, 303, 401, 402, 0xffffffffu, 0xffffffffu};

struct alignas(kCacheLine) ResolveStats {
    Counter requests;         // frames handed to resolve()
    Counter answers;          // replies sent (one per request, however many datagrams)
    Counter datagrams_out;    // UDP datagrams sent (multi-datagram answers count each)
    Counter bytes_in;
    Counter bytes_out;
    Counter values_out;
    Counter malformed;        // by any wire error; see `wire_errors`
    Counter oversize_for_udp; // answers replaced by "use TCP" errors
    Counter send_errors;      // the transport could not send
    Counter punted;           // recursive role: misses handed to the resolver threads
    Counter punt_dropped;     // misses lost: the thread's miss ring was full
    std::array<Counter, kCountedResponseCodes.size()> by_rc;
    std::array<Counter, static_cast<std::size_t>(Silence::Count_)> silenced;
    std::array<Counter, static_cast<std::size_t>(wire::WireError::Count_)> wire_errors;

    void count(const Outcome& o) noexcept;
    std::uint64_t rc_count(std::uint32_t rc) const noexcept;
};

/// Slot in ResolveStats::by_rc for a response code; the last slot collects the rest.
std::size_t rc_slot(std::uint32_t rc) noexcept;

} // namespace idpath::resolve
