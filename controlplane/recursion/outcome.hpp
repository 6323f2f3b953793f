#pragma once
/// What a recursive resolution produced, and the hops it took to get there.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/socket/client.hpp"

namespace idpath::recursion {

/// The answer to one handle. response_code is the authoritative server's (1 RC_SUCCESS, 100
/// RC_HANDLE_NOT_FOUND, 200 RC_VALUES_NOT_FOUND, ...), or 2 RC_ERROR when no server gave an
/// answer (then `error` says why).
struct Outcome {
    std::uint32_t response_code = 2;
    std::uint32_t value_count = 0;
    /// The public values, each as encode_value() writes it, back to back (a RESOLUTION body's
    /// value list without its count).
    std::vector<std::uint8_t> values;
    /// Seconds the answer stays valid (remaining, for a cached one); 0: not cacheable.
    std::uint32_t ttl = 0;
    /// Referral levels walked (each question sent to a new set of sites counts one).
    std::uint32_t hops = 0;
    bool from_cache = false;
    /// Set when the resolution failed (timeouts, no usable site, recursion limit).
    std::string error;

    bool failed() const noexcept { return !error.empty(); }
};

/// One exchange with an upstream server, for tracing (idpath-dig --recurse).
struct Hop {
    std::string question;
    std::string server; // "127.0.0.1:2641"
    bool tcp = false;
    std::uint32_t request_id = 0;
    /// The reply's response code; 0 when no (usable) reply came.
    std::uint32_t response_code = 0;
    /// What the engine made of the reply: "referral to 2 sites", "timeout: ...", "wrong server".
    std::string note;
    /// The reply itself, as the socket client returned it.
    std::optional<socket::QueryResult> reply;
    /// Header and body of the request sent (what a request digest covers).
    std::vector<std::uint8_t> request_header_and_body;
};

} // namespace idpath::recursion
