/// JSONEachRow rows for the ClickHouse tables (clickhouse_rows.hpp). Runs on the sink's thread
/// for every record, so it writes into a stack buffer with std::to_chars and appends once.

#include "controlplane/mirror/clickhouse/clickhouse_rows.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <string_view>

#include "dataplane/resolve/resolver.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::mirror::clickhouse {

namespace {

using querylog::Record;

/// A record's fixed fields take well under 1 KiB; its handle at most 6 chars per octet.
constexpr std::size_t kRowMax = 1024 + querylog::kHandleBytes * 6;

constexpr char kHex[] = "0123456789abcdef";

/// Appends to a caller buffer known to be large enough (kRowMax).
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
    void flag(std::uint8_t flags, std::uint8_t bit) noexcept { ch(flags & bit ? '1' : '0'); }
    /// The inside of a JSON string: '"', '\\' and controls escaped; every other octet copied
    /// as it is, so ClickHouse stores the client's exact octets, UTF-8 or not.
    void escaped(const std::uint8_t* s, std::size_t n) noexcept
    {
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t c = s[i];
            if (c == '"' || c == '\\') {
                ch('\\');
                ch(static_cast<char>(c));
            } else if (c < 0x20) {
                lit("\\u00");
                ch(kHex[c >> 4]);
                ch(kHex[c & 15]);
            } else {
                ch(static_cast<char>(c));
            }
        }
    }
};

/// `s` escaped as the inside of a JSON string, for strings of any length (origin, events).
void escape_append(std::string& out, std::string_view s)
{
    char buf[6 * 256];
    const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
    for (std::size_t done = 0; done < s.size();) {
        const std::size_t take = s.size() - done < 256 ? s.size() - done : 256;
        Writer w{buf};
        w.escaped(p + done, take);
        out.append(buf, static_cast<std::size_t>(w.p - buf));
        done += take;
    }
}

/// IPv4 (stored v4-mapped) as a dotted quad, IPv6 in RFC 5952 text; empty when the family is
/// neither (heartbeats).
void ip_text(Writer& w, std::uint8_t family, const std::uint8_t (&a)[16]) noexcept
{
    char text[INET6_ADDRSTRLEN];
    const bool ok = family == 4   ? ::inet_ntop(AF_INET, a + 12, text, sizeof text) != nullptr
                    : family == 6 ? ::inet_ntop(AF_INET6, a, text, sizeof text) != nullptr
                                  : false;
    if (ok)
        w.raw(text);
}

/// The Enum8 members of the table; a value newer than this encoder goes in as 'unknown'
/// rather than failing the whole insert.
const char* transport_name(std::uint8_t family, querylog::Transport t) noexcept
{
    if (family == 0)
        return "none";
    switch (t) {
    case querylog::Transport::Udp: return "udp";
    case querylog::Transport::Tcp: return "tcp";
    }
    return "unknown";
}

const char* action_name(querylog::Action a) noexcept
{
    switch (a) {
    case querylog::Action::Allowed: return "allowed";
    case querylog::Action::Denied: return "denied";
    case querylog::Action::RateLimited: return "rate_limited";
    }
    return "unknown";
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
    return "unknown";
}

void name(Writer& w, const char* s) noexcept
{
    w.ch('"');
    if (s != nullptr)
        w.raw(s);
    w.ch('"');
}

/// `{"node_id":"...","sw_version":"...",` : the same for every row of a batch.
std::string origin_prefix(const Origin& origin)
{
    std::string s = "{\"node_id\":\"";
    escape_append(s, origin.node_id);
    s += "\",\"sw_version\":\"";
    escape_append(s, origin.version);
    s += "\",";
    return s;
}

void record_row(const Record& r, bool replayed, Writer& w) noexcept
{
    const bool heartbeat = r.kind == querylog::Kind::Heartbeat;
    if (heartbeat)
        w.lit("\"kind\":\"heartbeat\",\"source\":");
    else
        w.lit("\"kind\":\"query\",\"source\":");
    w.num(r.source);
    w.lit(",\"seq\":");
    w.num(r.seq);
    w.lit(",\"time_ns\":");
    w.num(r.time_ns);
    w.lit(",\"replayed\":");
    w.ch(replayed ? '1' : '0');
    if (heartbeat) {
        // A heartbeat's handle octets are its counters; its query columns keep their defaults.
        const querylog::HeartbeatBody hb = querylog::heartbeat_body(r);
        w.lit(",\"produced\":");
        w.num(hb.produced);
        w.lit(",\"lost\":");
        w.num(hb.lost);
        w.lit(",\"transport\":\"none\",\"action\":\"allowed\",\"silence\":\"none\"}");
        return;
    }
    w.lit(",\"client_ip\":\"");
    ip_text(w, r.family, r.client);
    w.lit("\",\"client_port\":");
    w.num(r.client_port);
    w.lit(",\"server_ip\":\"");
    ip_text(w, r.family, r.server);
    w.lit("\",\"server_port\":");
    w.num(r.server_port);
    w.lit(",\"family\":");
    w.num(r.family);
    w.lit(",\"transport\":");
    name(w, transport_name(r.family, r.transport));
    w.lit(",\"opcode\":");
    w.num(r.opcode);
    w.lit(",\"opcode_name\":");
    name(w, wire::opcode_name(r.opcode));
    w.lit(",\"response_code\":");
    w.num(r.response_code);
    w.lit(",\"response_code_name\":");
    name(w, wire::response_code_name(r.response_code));
    w.lit(",\"values\":");
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
    name(w, action_name(r.action));
    w.lit(",\"silence\":");
    name(w, silence_name(r.silence));
    w.lit(",\"malformed\":");
    w.flag(r.flags, querylog::kFlagMalformed);
    w.lit(",\"oversize\":");
    w.flag(r.flags, querylog::kFlagOversize);
    w.lit(",\"multi_datagram_request\":");
    w.flag(r.flags, querylog::kFlagMultiDatagramRequest);
    w.lit(",\"handle\":\"");
    w.escaped(r.handle, r.handle_stored < querylog::kHandleBytes ? r.handle_stored : querylog::kHandleBytes);
    w.lit("\",\"handle_length\":");
    w.num(r.handle_length);
    w.lit(",\"handle_truncated\":");
    w.flag(r.flags, querylog::kFlagHandleTruncated);
    w.ch('}');
}

} // namespace

void encode_record_rows(const Batch& b, const Origin& origin, std::string& out)
{
    const std::string prefix = origin_prefix(origin);
    out.reserve(out.size() + b.records.size() * (prefix.size() + 560));
    char buf[kRowMax];
    for (const Record& r : b.records) {
        Writer w{buf};
        record_row(r, b.replayed, w);
        out += prefix;
        out.append(buf, static_cast<std::size_t>(w.p - buf));
        out += '\n';
    }
}

void encode_event_rows(const Batch& b, const Origin& origin, std::string& out)
{
    const std::string prefix = origin_prefix(origin);
    for (const Event& e : b.events) {
        char buf[128];
        Writer w{buf};
        w.lit("\"seq\":");
        w.num(e.seq);
        w.lit(",\"time_ns\":");
        w.num(e.time_ns);
        w.lit(",\"replayed\":");
        w.ch(b.replayed ? '1' : '0');
        w.lit(",\"category\":\"");
        out += prefix;
        out.append(buf, static_cast<std::size_t>(w.p - buf));
        escape_append(out, e.category);
        out += "\",\"fields.key\":[";
        for (std::size_t i = 0; i < e.fields.size(); ++i) {
            out += i == 0 ? "\"" : ",\"";
            escape_append(out, e.fields[i].first);
            out += '"';
        }
        out += "],\"fields.value\":[";
        for (std::size_t i = 0; i < e.fields.size(); ++i) {
            out += i == 0 ? "\"" : ",\"";
            escape_append(out, e.fields[i].second);
            out += '"';
        }
        out += "]}\n";
    }
}

} // namespace idpath::mirror::clickhouse
