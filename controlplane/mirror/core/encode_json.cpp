/// The JSON-lines form of the log schema (docs/log-schema.md). Runs once per record on the
/// exporter's and sinks' threads, so it writes into a stack buffer with std::to_chars and appends
/// once: no streams, no JSON library, no allocation besides `out` growing.

#include <algorithm>
#include <charconv>
#include <string_view>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/core/json_writer.hpp"

namespace idpath::mirror {

namespace {

using querylog::Record;
using namespace json_text;

/// Longest JSON a query record's own fields can take (the origin prefix is appended apart): a
/// handle of kHandleBytes octets each escaped as \u00XX (6) plus its hex (2), and well under
/// 1 KiB of fixed fields.
constexpr std::size_t kRecordJsonMax = 1024 + querylog::kHandleBytes * 8;

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
    append_utf8(s, origin.node_id);
    s += "\",\"sw_version\":\"";
    append_utf8(s, origin.version);
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
        codes_and_counts(w, r);
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
        const bool exact = escape_utf8(w, r.handle, stored);
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
    append_utf8(out, e.category);
    out += "\",\"fields\":{";
    bool first = true;
    for (const auto& [key, value] : e.fields) {
        if (!first)
            out += ',';
        first = false;
        out += '"';
        append_utf8(out, key);
        out += "\":\"";
        append_utf8(out, value);
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
