/// JSONEachRow rows for the ClickHouse tables (clickhouse_rows.hpp). Runs on the sink's thread
/// for every record, so it writes into a stack buffer with std::to_chars and appends once.

#include "controlplane/mirror/clickhouse/clickhouse_rows.hpp"

#include <string_view>

#include "controlplane/mirror/core/json_writer.hpp"

namespace idpath::mirror::clickhouse {

namespace {

using json_text::Writer;
using querylog::Record;

/// A record's fixed fields take well under 1 KiB; its handle at most 6 chars per octet.
constexpr std::size_t kRowMax = 1024 + querylog::kHandleBytes * 6;

/// IPv4 (stored v4-mapped) as a dotted quad, IPv6 in RFC 5952 text; empty when the family is
/// neither (heartbeats).
void ip_text(Writer& w, std::uint8_t family, const std::uint8_t (&a)[16]) noexcept
{
    if (family == 4 || family == 6)
        json_text::ip_text(w, a);
}

/// The Enum8 members of the table; a value newer than this encoder goes in as 'unknown'
/// rather than failing the whole insert.
const char* enum_name(const char* known) noexcept
{
    return known != nullptr ? known : "unknown";
}

const char* transport_name(std::uint8_t family, querylog::Transport t) noexcept
{
    return family == 0 ? "none" : enum_name(json_text::transport_name(t));
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
    json_text::append_octets(s, origin.node_id);
    s += "\",\"sw_version\":\"";
    json_text::append_octets(s, origin.version);
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
    json_text::codes_and_counts(w, r);
    w.lit(",\"action\":");
    name(w, enum_name(json_text::action_name(r.action)));
    w.lit(",\"silence\":");
    name(w, enum_name(json_text::silence_name(r.silence)));
    w.lit(",\"malformed\":");
    w.flag(r.flags, querylog::kFlagMalformed);
    w.lit(",\"oversize\":");
    w.flag(r.flags, querylog::kFlagOversize);
    w.lit(",\"multi_datagram_request\":");
    w.flag(r.flags, querylog::kFlagMultiDatagramRequest);
    w.lit(",\"handle\":\"");
    json_text::escape_octets(w, r.handle,
                             r.handle_stored < querylog::kHandleBytes ? r.handle_stored : querylog::kHandleBytes);
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
        json_text::append_octets(out, e.category);
        out += "\",\"fields.key\":[";
        for (std::size_t i = 0; i < e.fields.size(); ++i) {
            out += i == 0 ? "\"" : ",\"";
            json_text::append_octets(out, e.fields[i].first);
            out += '"';
        }
        out += "],\"fields.value\":[";
        for (std::size_t i = 0; i < e.fields.size(); ++i) {
            out += i == 0 ? "\"" : ",\"";
            json_text::append_octets(out, e.fields[i].second);
            out += '"';
        }
        out += "]}\n";
    }
}

} // namespace idpath::mirror::clickhouse
