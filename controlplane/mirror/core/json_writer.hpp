#pragma once
/// The pieces the log's two JSON forms share: the JSON lines of encode_json.cpp and the
/// ClickHouse JSONEachRow rows (clickhouse_rows.cpp). Both run once per record on a sink's
/// thread, so they write into a stack buffer through Writer and append once: no streams, no JSON
/// library, no allocation.

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "dataplane/querylog/record.hpp"

namespace idpath::mirror::json_text {

inline constexpr char kHex[] = "0123456789abcdef";

/// Appends to a caller buffer known to be large enough (each caller sizes its own).
struct Writer {
    char* p;

    template <std::size_t N>
    void lit(const char (&s)[N]) noexcept
    {
        std::memcpy(p, s, N - 1);
        p += N - 1;
    }
    void raw(std::string_view s) noexcept
    {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
    void ch(char c) noexcept { *p++ = c; }
    void num(std::uint64_t v) noexcept { p = std::to_chars(p, p + 20, v).ptr; }
    void boolean(bool b) noexcept
    {
        if (b)
            lit("true");
        else
            lit("false");
    }
    /// ClickHouse's Bool/UInt8 form of a flag bit.
    void flag(std::uint8_t flags, std::uint8_t bit) noexcept { ch(flags & bit ? '1' : '0'); }
    void two(unsigned v) noexcept
    {
        p[0] = static_cast<char>('0' + v / 10);
        p[1] = static_cast<char>('0' + v % 10);
        p += 2;
    }
};

/// Writes `s` as the inside of a JSON string: '"', '\\' and controls escaped, well-formed UTF-8
/// copied, and each octet that does not start a well-formed UTF-8 sequence replaced by U+FFFD.
/// Returns false when any octet was replaced (the caller may then add the exact octets in hex).
/// Needs up to 6 output chars per input octet. The log schema's JSON lines.
bool escape_utf8(Writer& w, const std::uint8_t* s, std::size_t n) noexcept;
/// escape_utf8 for strings of any length (origin, event fields), appended to `out`.
void append_utf8(std::string& out, std::string_view s);

/// Writes `s` as the inside of a JSON string: '"', '\\' and controls escaped; every other octet
/// copied as it is, so ClickHouse stores the client's exact octets, UTF-8 or not. Needs up to 6
/// output chars per input octet.
void escape_octets(Writer& w, const std::uint8_t* s, std::size_t n) noexcept;
/// escape_octets for strings of any length (origin, event fields), appended to `out`.
void append_octets(std::string& out, std::string_view s);

/// "2026-11-23T02:40:36.123456789Z": RFC 3339, UTC, nanoseconds always nine digits.
void rfc3339(Writer& w, std::uint64_t time_ns) noexcept;

/// IPv6 in RFC 5952 form: lowercase, no leading zeros, the longest run (the first of equal
/// ones) of two or more zero groups as "::".
void ipv6_text(Writer& w, const std::uint8_t (&a)[16]) noexcept;
/// IPv4 (stored v4-mapped) as a dotted quad, anything else in RFC 5952 text.
void ip_text(Writer& w, const std::uint8_t (&a)[16]) noexcept;

/// `,"opcode":…,"opcode_name":"…","response_code":…,"response_code_name":"…","values":…,
/// "request_bytes":…,"response_bytes":…,"datagrams":…,"latency_ns":…` of a query record, which
/// both forms write alike (a code newer than this build gets an empty name).
void codes_and_counts(Writer& w, const querylog::Record& r) noexcept;

/// The schema's names; nullptr for a value newer than this encoder (each form says what then).
const char* transport_name(querylog::Transport t) noexcept;
const char* action_name(querylog::Action a) noexcept;
const char* silence_name(std::uint8_t s) noexcept;

} // namespace idpath::mirror::json_text
