/// The shared pieces of the log's JSON forms (json_writer.hpp).

#include "controlplane/mirror/core/json_writer.hpp"

#include <array>
#include <chrono>

#include "dataplane/resolve/resolver.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::mirror::json_text {

namespace {

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

} // namespace

bool escape_utf8(Writer& w, const std::uint8_t* s, std::size_t n) noexcept
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

void append_utf8(std::string& out, std::string_view s)
{
    // Through a bounded stack buffer, chunk by chunk on character boundaries so a sequence is
    // never split.
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
        escape_utf8(w, p, take);
        out.append(buf.data(), static_cast<std::size_t>(w.p - buf.data()));
        p += take;
        n -= take;
    }
}

void escape_octets(Writer& w, const std::uint8_t* s, std::size_t n) noexcept
{
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            w.ch('\\');
            w.ch(static_cast<char>(c));
        } else if (c < 0x20) {
            w.lit("\\u00");
            w.ch(kHex[c >> 4]);
            w.ch(kHex[c & 15]);
        } else {
            w.ch(static_cast<char>(c));
        }
    }
}

void append_octets(std::string& out, std::string_view s)
{
    char buf[6 * 256];
    const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
    for (std::size_t done = 0; done < s.size();) {
        const std::size_t take = s.size() - done < 256 ? s.size() - done : 256;
        Writer w{buf};
        escape_octets(w, p + done, take);
        out.append(buf, static_cast<std::size_t>(w.p - buf));
        done += take;
    }
}

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

/// Written here rather than with inet_ntop(3), which formats through sprintf and took a third of
/// the JSON encoder's time.
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

void codes_and_counts(Writer& w, const querylog::Record& r) noexcept
{
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
    case querylog::Action::Recursed: return "recursed";
    case querylog::Action::Resolved: return "resolved";
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

} // namespace idpath::mirror::json_text
