/// The JSON-lines form of the log schema (docs/log-schema.md). Runs once per record on the
/// exporter's and sinks' threads, so it writes into a stack buffer with std::to_chars and appends
/// once: no streams, no JSON library, no allocation besides `out` growing.

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <string_view>

#include "controlplane/mirror/core/encode.hpp"
#include "dataplane/resolve/resolver.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::mirror {

namespace {

using querylog::Record;

/// Longest JSON a query record's own fields can take (the origin prefix is appended apart): a
/// handle of kHandleBytes octets each escaped as \u00XX (6) plus its hex (2), and well under
/// 1 KiB of fixed fields.
constexpr std::size_t kRecordJsonMax = 1024 + querylog::kHandleBytes * 8;

constexpr char kHex[] = "0123456789abcdef";

/// Appends to a caller buffer known to be large enough (sized by kRecordJsonMax).
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
    void two(unsigned v) noexcept
    {
        p[0] = static_cast<char>('0' + v / 10);
        p[1] = static_cast<char>('0' + v % 10);
        p += 2;
    }
};

/// Length of the well-formed UTF-8 sequence starting at s[0] (RFC 3629 section 4), or 0 when
/// s[0] does not start one within `n` octets.
std::size_t utf8_sequence(const std::uint8_t* s, std::size_t n) noexcept
{
    const std::uint8_t c = s[0];
    auto cont = [&](std::size_t i, std::uint8_t lo = 0x80, std::uint8_t hi = 0xbf) {
        return i < n && s[i] >= lo && s[i] <= hi;
    };
    if (c >= 0xc2 && c <= 0xdf)
        return cont(1) ? 2 : 0;
    if (c == 0xe0)
        return cont(1, 0xa0) && cont(2) ? 3 : 0;
    if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
        return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xed) // no UTF-16 surrogates
        return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
    if (c == 0xf0)
        return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xf1 && c <= 0xf3)
        return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xf4)
        return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

/// Writes `s` as the inside of a JSON string: '"', '\\' and controls escaped, well-formed UTF-8
/// copied, and each octet that does not start a well-formed UTF-8 sequence replaced by U+FFFD.
/// Returns false when any octet was replaced (the caller may then add the exact octets in hex).
/// Needs up to 6 output chars per input octet.
bool escape_into(Writer& w, const std::uint8_t* s, std::size_t n) noexcept
{
    bool exact = true;
    std::size_t i = 0;
    while (i < n) {
        const std::uint8_t c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            w.ch(static_cast<char>(c));
            ++i;
            continue;
        }
        if (c < 0x80) {
            w.ch('\\');
            switch (c) {
            case '"': w.ch('"'); break;
            case '\\': w.ch('\\'); break;
            case '\n': w.ch('n'); break;
            case '\r': w.ch('r'); break;
            case '\t': w.ch('t'); break;
            case '\b': w.ch('b'); break;
            case '\f': w.ch('f'); break;
            default:
                w.lit("u00");
                w.ch(kHex[c >> 4]);
                w.ch(kHex[c & 15]);
            }
            ++i;
            continue;
        }
        const std::size_t len = utf8_sequence(s + i, n - i);
        if (len == 0) {
            w.lit("\xef\xbf\xbd"); // U+FFFD REPLACEMENT CHARACTER
            exact = false;
            ++i;
            continue;
        }
        w.raw({reinterpret_cast<const char*>(s + i), len});
        i += len;
    }
    return exact;
}

void escape_append(std::string& out, std::string_view s)
{
    // Small strings (origin, event fields) through a bounded stack buffer, chunk by chunk on
    // character boundaries so a sequence is never split.
    std::array<char, 6 * 256> buf;
    const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
    std::size_t n = s.size();
    while (n > 0) {
        std::size_t take = n < 256 ? n : 256;
        while (take < n && take > 0 && (p[take] & 0xc0) == 0x80)
            --take; // do not cut before a continuation octet
        if (take == 0)
            take = n < 256 ? n : 256;
        Writer w{buf.data()};
        escape_into(w, p, take);
        out.append(buf.data(), static_cast<std::size_t>(w.p - buf.data()));
        p += take;
        n -= take;
    }
}

/// "2026-11-23T02:40:36.123456789Z": RFC 3339, UTC, nanoseconds always nine digits.
void rfc3339(Writer& w, std::uint64_t time_ns) noexcept
{
    using namespace std::chrono;
    const std::uint64_t secs = time_ns / 1'000'000'000u;
    const auto nanos = static_cast<std::uint32_t>(time_ns % 1'000'000'000u);
    const auto day = static_cast<std::int64_t>(secs / 86400);
    const auto in_day = static_cast<unsigned>(secs % 86400);
    const year_month_day ymd{sys_days{days{day}}};
    const int year = static_cast<int>(ymd.year());
    w.two(static_cast<unsigned>(year / 100));
    w.two(static_cast<unsigned>(year % 100));
    w.ch('-');
    w.two(static_cast<unsigned>(ymd.month()));
    w.ch('-');
    w.two(static_cast<unsigned>(ymd.day()));
    w.ch('T');
    w.two(in_day / 3600);
    w.ch(':');
    w.two(in_day / 60 % 60);
    w.ch(':');
    w.two(in_day % 60);
    w.ch('.');
    char digits[9];
    std::uint32_t v = nanos;
    for (int i = 8; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    w.raw({digits, 9});
    w.ch('Z');
}

/// IPv6 in RFC 5952 form: lowercase, no leading zeros, the longest run (the first of equal
/// ones) of two or more zero groups as "::". Written here rather than with inet_ntop(3), which
/// formats through sprintf and took a third of this encoder's time.
void ipv6_text(Writer& w, const std::uint8_t (&a)[16]) noexcept
{
    std::uint16_t g[8];
    for (int i = 0; i < 8; ++i)
        g[i] = static_cast<std::uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            ++j;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = -1;
    for (int i = 0; i < 8; ++i) {
        if (i == best) {
            w.lit("::");
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            w.ch(':');
        w.p = std::to_chars(w.p, w.p + 4, g[i], 16).ptr;
    }
}

/// IPv4 (stored v4-mapped) as a dotted quad, anything else in RFC 5952 text.
void ip_text(Writer& w, const std::uint8_t (&a)[16]) noexcept
{
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a, kMapped, sizeof kMapped) == 0) {
        for (int i = 12; i < 16; ++i) {
            if (i > 12)
                w.ch('.');
            w.num(a[i]);
        }
        return;
    }
    ipv6_text(w, a);
}

const char* transport_name(querylog::Transport t) noexcept
{
    switch (t) {
    case querylog::Transport::Udp: return "udp";
    case querylog::Transport::Tcp: return "tcp";
    }
    return nullptr;
}

const char* action_name(querylog::Action a) noexcept
{
    switch (a) {
    case querylog::Action::Allowed: return "allowed";
    case querylog::Action::Denied: return "denied";
    case querylog::Action::RateLimited: return "rate_limited";
    }
    return nullptr;
}

const char* silence_name(std::uint8_t s) noexcept
{
    switch (static_cast<resolve::Silence>(s)) {
    case resolve::Silence::None: return "none";
    case resolve::Silence::BadEnvelope: return "bad_envelope";
    case resolve::Silence::BadMessage: return "bad_message";
    case resolve::Silence::NotARequest: return "not_a_request";
    case resolve::Silence::Count_: break;
    }
    return nullptr;
}

/// A known name, or the number as text for a value newer than this encoder.
void name_or_number(Writer& w, const char* name, std::uint64_t v) noexcept
{
    w.ch('"');
    if (name != nullptr)
        w.raw(name);
    else
        w.num(v);
    w.ch('"');
}

/// Reserves room for `more` octets, geometrically so appending batch after batch stays linear.
void grow(std::string& out, std::size_t more)
{
    if (out.capacity() - out.size() < more)
        out.reserve(std::max(out.size() + more, 2 * out.capacity()));
}

/// `{"schema_version":1,"node_id":"...","sw_version":"...",` : the same for every line of a
/// batch, so made once per batch.
std::string origin_prefix(const Origin& origin)
{
    std::string s = "{\"schema_version\":";
    char n[16];
    s.append(n, static_cast<std::size_t>(std::to_chars(n, n + sizeof n, kSchemaVersion).ptr - n));
    s += ",\"node_id\":\"";
    escape_append(s, origin.node_id);
    s += "\",\"sw_version\":\"";
    escape_append(s, origin.version);
    s += "\",";
    return s;
}

void common(Writer& w, std::uint16_t source, std::uint64_t seq, std::uint64_t time_ns) noexcept
{
    w.lit("\"source\":");
    w.num(source);
    w.lit(",\"seq\":");
    w.num(seq);
    w.lit(",\"time\":\"");
    rfc3339(w, time_ns);
    w.lit("\",\"time_ns\":");
    w.num(time_ns);
}

void record_json(const Record& r, std::string_view prefix, bool replayed, std::string& out)
{
    char buf[kRecordJsonMax];
    Writer w{buf};
    if (r.kind == querylog::Kind::Heartbeat) {
        const querylog::HeartbeatBody hb = querylog::heartbeat_body(r);
        w.lit("\"kind\":\"heartbeat\",");
        common(w, r.source, r.seq, r.time_ns);
        w.lit(",\"produced\":");
        w.num(hb.produced);
        w.lit(",\"lost\":");
        w.num(hb.lost);
    } else {
        w.lit("\"kind\":\"query\",");
        common(w, r.source, r.seq, r.time_ns);
        w.lit(",\"client_ip\":\"");
        ip_text(w, r.client);
        w.lit("\",\"client_port\":");
        w.num(r.client_port);
        w.lit(",\"server_ip\":\"");
        ip_text(w, r.server);
        w.lit("\",\"server_port\":");
        w.num(r.server_port);
        w.lit(",\"family\":");
        w.num(r.family);
        w.lit(",\"transport\":");
        name_or_number(w, transport_name(r.transport), static_cast<std::uint8_t>(r.transport));
        w.lit(",\"opcode\":");
        w.num(r.opcode);
        w.lit(",\"opcode_name\":\"");
        if (const char* name = wire::opcode_name(r.opcode))
            w.raw(name);
        w.lit("\",\"response_code\":");
        w.num(r.response_code);
        w.lit(",\"response_code_name\":\"");
        if (const char* name = wire::response_code_name(r.response_code))
            w.raw(name);
        w.lit("\",\"values\":");
        w.num(r.values);
        w.lit(",\"request_bytes\":");
        w.num(r.request_bytes);
        w.lit(",\"response_bytes\":");
        w.num(r.response_bytes);
        w.lit(",\"datagrams\":");
        w.num(r.datagrams);
        w.lit(",\"latency_ns\":");
        w.num(r.latency_ns);
        w.lit(",\"action\":");
        name_or_number(w, action_name(r.action), static_cast<std::uint8_t>(r.action));
        w.lit(",\"silence\":");
        name_or_number(w, silence_name(r.silence), r.silence);
        w.lit(",\"malformed\":");
        w.boolean(r.flags & querylog::kFlagMalformed);
        w.lit(",\"oversize\":");
        w.boolean(r.flags & querylog::kFlagOversize);
        w.lit(",\"multi_datagram_request\":");
        w.boolean(r.flags & querylog::kFlagMultiDatagramRequest);
        const std::size_t stored =
            r.handle_stored < querylog::kHandleBytes ? r.handle_stored : querylog::kHandleBytes;
        w.lit(",\"handle\":\"");
        const bool exact = escape_into(w, r.handle, stored);
        w.ch('"');
        if (!exact) {
            w.lit(",\"handle_hex\":\"");
            for (std::size_t i = 0; i < stored; ++i) {
                w.ch(kHex[r.handle[i] >> 4]);
                w.ch(kHex[r.handle[i] & 15]);
            }
            w.ch('"');
        }
        w.lit(",\"handle_length\":");
        w.num(r.handle_length);
        w.lit(",\"handle_truncated\":");
        w.boolean(r.flags & querylog::kFlagHandleTruncated);
    }
    w.lit(",\"replayed\":");
    w.boolean(replayed);
    w.ch('}');
    out.append(prefix);
    out.append(buf, static_cast<std::size_t>(w.p - buf));
}

void event_json(const Event& e, std::string_view prefix, bool replayed, std::string& out)
{
    out.append(prefix);
    char buf[256];
    Writer w{buf};
    w.lit("\"kind\":\"event\",");
    common(w, kControlSource, e.seq, e.time_ns);
    w.lit(",\"category\":\"");
    out.append(buf, static_cast<std::size_t>(w.p - buf));
    escape_append(out, e.category);
    out += "\",\"fields\":{";
    bool first = true;
    for (const auto& [key, value] : e.fields) {
        if (!first)
            out += ',';
        first = false;
        out += '"';
        escape_append(out, key);
        out += "\":\"";
        escape_append(out, value);
        out += '"';
    }
    out += replayed ? "},\"replayed\":true}" : "},\"replayed\":false}";
}

} // namespace

JsonEncoder::JsonEncoder(const Origin& origin) : prefix_(origin_prefix(origin)) {}

void JsonEncoder::record(const querylog::Record& r, bool replayed, std::string& out) const
{
    record_json(r, prefix_, replayed, out);
}

void JsonEncoder::event(const Event& e, bool replayed, std::string& out) const
{
    event_json(e, prefix_, replayed, out);
}

void encode_json(const querylog::Record& r, const Origin& origin, bool replayed, std::string& out)
{
    record_json(r, origin_prefix(origin), replayed, out);
}

void encode_json(const Event& e, const Origin& origin, bool replayed, std::string& out)
{
    event_json(e, origin_prefix(origin), replayed, out);
}

void encode_json_lines(const Batch& b, const Origin& origin, std::string& out)
{
    const std::string prefix = origin_prefix(origin);
    grow(out, b.records.size() * 480 + b.events.size() * 256);
    for (const querylog::Record& r : b.records) {
        record_json(r, prefix, b.replayed, out);
        out += '\n';
    }
    for (const Event& e : b.events) {
        event_json(e, prefix, b.replayed, out);
        out += '\n';
    }
}

} // namespace idpath::mirror
