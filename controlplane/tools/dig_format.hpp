#pragma once
/// idpath-dig's output: a reply decoded and rendered as kdig-like text or as one JSON object
/// (docs/idpath-dig.md). Pure functions of their arguments, so every line is unit-testable;
/// dig_main.cpp only parses arguments and does the I/O.
/// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/bytes_text.hpp"
#include "dataplane/wire/value.hpp"
#include "drivers/socket/client.hpp"

namespace idpath::tools {

/// Exit statuses of idpath-dig.
namespace dig_exit {
inline constexpr int kSuccess = 0;   // RC_SUCCESS
inline constexpr int kNegative = 1;  // any other response code
inline constexpr int kUsage = 2;     // bad arguments
inline constexpr int kNetwork = 3;   // no reply: timeout, refused, reset
inline constexpr int kMalformed = 4; // a reply that does not decode, or a request digest mismatch
} // namespace dig_exit

/// One exchange as idpath-dig saw it.
struct DigExchange {
    std::string server; // "127.0.0.1:2641"
    bool tcp = false;
    std::string question;     // the handle asked for
    std::uint32_t opcode = 1; // of the request
    std::uint32_t request_id = 0;
    bool digest_requested = false;
    /// Header and body of the request sent, for checking the digest RD asks for.
    std::vector<std::uint8_t> request_header_and_body;
    socket::QueryResult reply;
};

struct DigFormatOptions {
    bool hex = false; // value data as hex, undecoded
};

struct DigOutput {
    int exit_code = dig_exit::kSuccess;
    std::string text; // for stdout, newline-terminated
};

/// kdig-like text: header, flags, question, answer (or error, referral, site info), summary.
DigOutput format_text(const DigExchange& x, const DigFormatOptions& o);
/// One JSON object (schema in docs/idpath-dig.md).
DigOutput format_json(const DigExchange& x, const DigFormatOptions& o);
/// The JSON object for an exchange that produced no reply; `status` is "timeout" or
/// "network-error".
std::string format_json_failure(const std::string& server, bool tcp, const std::string& question,
                                const std::string& status, const std::string& message);

// Building blocks, exposed for tests.

/// "AT REC CA PO"; bits without a name as 0x........; "-" when none.
std::string flags_string(std::uint32_t op_flags);
/// The names of the set flags (AT, CT, ENC, REC, CA, CN, KC, PO, RD, OVRW, MINT, DNRF, RECU_AUTH).
std::vector<std::string> flag_names(std::uint32_t op_flags);
/// "2026-11-23 06:00:00 UTC".
std::string utc_time(std::uint32_t unix_seconds);
/// "2026-01-02T03:04:05Z".
std::string iso_time(std::uint32_t unix_seconds);
using idpath::is_printable_utf8; // dataplane/base/bytes_text.hpp
/// "\"text\"" with \" and \\ escaped (for printable UTF-8).
std::string quoted(ByteSpan text);
using idpath::hex;
/// A value's data as text: HS_SITE*, HS_ADMIN and HS_VLIST decoded, printable text quoted,
/// anything else as 0x-prefixed hex (always hex when `as_hex`). HS_SITE takes several lines;
/// continuation lines start with 8 spaces.
std::string value_data_text(const wire::HandleValue& v, bool as_hex);
/// One value, as in the ANSWER section: index, type, ttl, permissions, timestamp, data, refs.
std::string value_line(const wire::HandleValue& v, bool as_hex);

} // namespace idpath::tools
