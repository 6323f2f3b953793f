/// The compact binary batch (docs/log-schema.md, "Binary batch"): what files, Kafka and the
/// spool carry. Little-endian, no padding, the handle at its stored length, the whole batch
/// covered by an XXH3-64 trailer so a truncated or altered batch is refused before any field
/// of it is believed.

#include <algorithm>
#include <bit>
#include <cstring>

#include "controlplane/mirror/core/encode.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace idpath::mirror {

namespace {

using querylog::Record;

constexpr std::uint8_t kMagic[4] = {'I', 'P', 'L', 'B'};
constexpr std::size_t kHeaderBytes = 32;  // up to and including the two origin lengths
constexpr std::size_t kTrailerBytes = 8;  // XXH3-64 of everything before it
constexpr std::uint8_t kBatchReplayed = 0x01;
/// Set in a record's kind octet when both addresses are IPv4 (v4-mapped) and stored as 4 octets.
constexpr std::uint8_t kCompactV4 = 0x80;
constexpr std::uint8_t kKindMask = 0x7f;
/// Smallest encoded record (a heartbeat) and event: bounds the counts a header may claim.
constexpr std::size_t kMinRecordBytes = 1 + 8 + 8 + 2 + 16;
constexpr std::size_t kMinEventBytes = 8 + 8 + 4 + 4;

constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The format is little-endian and stored with plain copies: every target idpath builds for is.
static_assert(std::endian::native == std::endian::little);

template <class T>
T to_le(T v) noexcept
{
    return v;
}

/// Appends little-endian fields to `out`.
struct Put {
    std::string& out;

    template <class T>
    void le(T v)
    {
        v = to_le(v);
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    void bytes(const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }
    void str(std::string_view s)
    {
        le<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
        out.append(s);
    }
};

/// Bounds-checked little-endian reads: every read says whether the input had the octets.
struct Get {
    const std::uint8_t* p;
    const std::uint8_t* end;

    std::size_t left() const noexcept { return static_cast<std::size_t>(end - p); }

    template <class T>
    bool le(T& v) noexcept
    {
        if (left() < sizeof v)
            return false;
        std::memcpy(&v, p, sizeof v);
        v = to_le(v);
        p += sizeof v;
        return true;
    }
    bool bytes(void* dst, std::size_t n) noexcept
    {
        if (left() < n)
            return false;
        std::memcpy(dst, p, n);
        p += n;
        return true;
    }
    bool str(std::string& s)
    {
        std::uint32_t n = 0;
        if (!le(n) || left() < n)
            return false;
        s.assign(reinterpret_cast<const char*>(p), n);
        p += n;
        return true;
    }
};

bool compact_v4(const Record& r) noexcept
{
    return std::memcmp(r.client, kMapped, sizeof kMapped) == 0 &&
           std::memcmp(r.server, kMapped, sizeof kMapped) == 0;
}

void put_record(Put& put, const Record& r)
{
    if (r.kind == querylog::Kind::Heartbeat) {
        const querylog::HeartbeatBody hb = querylog::heartbeat_body(r);
        put.le(static_cast<std::uint8_t>(querylog::Kind::Heartbeat));
        put.le(r.seq);
        put.le(r.time_ns);
        put.le(r.source);
        put.le(hb.produced);
        put.le(hb.lost);
        return;
    }
    const bool v4 = compact_v4(r);
    put.le(static_cast<std::uint8_t>(static_cast<std::uint8_t>(r.kind) | (v4 ? kCompactV4 : 0)));
    put.le(r.seq);
    put.le(r.time_ns);
    put.le(r.source);
    put.le(r.latency_ns);
    put.le(r.family);
    put.le(static_cast<std::uint8_t>(r.transport));
    put.le(static_cast<std::uint8_t>(r.action));
    put.le(r.silence);
    put.le(r.flags);
    put.le(r.opcode);
    put.le(r.response_code);
    put.le(r.request_bytes);
    put.le(r.response_bytes);
    put.le(r.values);
    put.le(r.datagrams);
    put.le(r.client_port);
    put.le(r.server_port);
    if (v4) {
        put.bytes(r.client + 12, 4);
        put.bytes(r.server + 12, 4);
    } else {
        put.bytes(r.client, 16);
        put.bytes(r.server, 16);
    }
    put.le(r.handle_length);
    const std::uint8_t stored =
        r.handle_stored < querylog::kHandleBytes ? r.handle_stored : querylog::kHandleBytes;
    put.le(stored);
    put.bytes(r.handle, stored);
}

bool get_record(Get& get, Record& r)
{
    std::uint8_t kind = 0;
    if (!get.le(kind) || !get.le(r.seq) || !get.le(r.time_ns) || !get.le(r.source))
        return false;
    r.kind = static_cast<querylog::Kind>(kind & kKindMask);
    if (r.kind == querylog::Kind::Heartbeat) {
        querylog::HeartbeatBody hb{};
        if (kind != static_cast<std::uint8_t>(querylog::Kind::Heartbeat) || !get.le(hb.produced) ||
            !get.le(hb.lost))
            return false;
        querylog::set_heartbeat_body(r, hb);
        return true;
    }
    if (r.kind != querylog::Kind::Query)
        return false;
    std::uint8_t transport = 0, action = 0;
    if (!get.le(r.latency_ns) || !get.le(r.family) || !get.le(transport) || !get.le(action) ||
        !get.le(r.silence) || !get.le(r.flags) || !get.le(r.opcode) ||
        !get.le(r.response_code) || !get.le(r.request_bytes) || !get.le(r.response_bytes) ||
        !get.le(r.values) || !get.le(r.datagrams) || !get.le(r.client_port) ||
        !get.le(r.server_port))
        return false;
    r.transport = static_cast<querylog::Transport>(transport);
    r.action = static_cast<querylog::Action>(action);
    if (kind & kCompactV4) {
        std::memcpy(r.client, kMapped, sizeof kMapped);
        std::memcpy(r.server, kMapped, sizeof kMapped);
        if (!get.bytes(r.client + 12, 4) || !get.bytes(r.server + 12, 4))
            return false;
    } else if (!get.bytes(r.client, 16) || !get.bytes(r.server, 16)) {
        return false;
    }
    if (!get.le(r.handle_length) || !get.le(r.handle_stored) ||
        r.handle_stored > querylog::kHandleBytes)
        return false;
    return get.bytes(r.handle, r.handle_stored);
}

void put_event(Put& put, const Event& e)
{
    put.le(e.seq);
    put.le(e.time_ns);
    put.str(e.category);
    put.le(static_cast<std::uint32_t>(e.fields.size()));
    for (const auto& [key, value] : e.fields) {
        put.str(key);
        put.str(value);
    }
}

bool get_event(Get& get, Event& e)
{
    std::uint32_t count = 0;
    if (!get.le(e.seq) || !get.le(e.time_ns) || !get.str(e.category) || !get.le(count))
        return false;
    if (count > get.left() / 8) // each field is at least two empty strings
        return false;
    e.fields.resize(count);
    for (auto& [key, value] : e.fields)
        if (!get.str(key) || !get.str(value))
            return false;
    return true;
}

} // namespace

void encode_binary(const Batch& b, const Origin& origin, std::string& out)
{
    const std::size_t start = out.size();
    const std::size_t more = kHeaderBytes + origin.node_id.size() + origin.version.size() +
                             b.records.size() * 110 + b.events.size() * 64 + kTrailerBytes;
    if (out.capacity() - start < more) // geometrically: appending batch after batch stays linear
        out.reserve(std::max(start + more, 2 * out.capacity()));
    Put put{out};
    put.bytes(kMagic, sizeof kMagic);
    put.le(static_cast<std::uint16_t>(kSchemaVersion));
    put.le(static_cast<std::uint8_t>(b.replayed ? kBatchReplayed : 0));
    put.le(std::uint8_t{0}); // reserved
    put.le(std::uint32_t{0}); // total length, patched below
    put.le(b.id);
    put.le(static_cast<std::uint32_t>(b.records.size()));
    put.le(static_cast<std::uint32_t>(b.events.size()));
    put.le(static_cast<std::uint16_t>(origin.node_id.size() > 0xffff ? 0xffff : origin.node_id.size()));
    put.le(static_cast<std::uint16_t>(origin.version.size() > 0xffff ? 0xffff : origin.version.size()));
    put.bytes(origin.node_id.data(), origin.node_id.size() > 0xffff ? 0xffff : origin.node_id.size());
    put.bytes(origin.version.data(), origin.version.size() > 0xffff ? 0xffff : origin.version.size());
    for (const Record& r : b.records)
        put_record(put, r);
    for (const Event& e : b.events)
        put_event(put, e);
    const std::uint32_t total = to_le(static_cast<std::uint32_t>(out.size() - start + kTrailerBytes));
    std::memcpy(out.data() + start + 8, &total, sizeof total);
    put.le(static_cast<std::uint64_t>(XXH3_64bits(out.data() + start, out.size() - start)));
}

Result<DecodedBatch, std::string> decode_binary(ByteSpan in, std::size_t& consumed)
{
    consumed = 0;
    if (in.size() < kHeaderBytes + kTrailerBytes)
        return Err(std::string("truncated batch header"));
    if (std::memcmp(in.data(), kMagic, sizeof kMagic) != 0)
        return Err(std::string("not a log batch (bad magic)"));
    Get head{in.data() + 4, in.data() + kHeaderBytes};
    std::uint16_t version = 0;
    std::uint8_t flags = 0, reserved = 0;
    std::uint32_t total = 0;
    (void)(head.le(version) && head.le(flags) && head.le(reserved) && head.le(total));
    if (version != kSchemaVersion)
        return Err("unknown schema version " + std::to_string(version));
    if (total < kHeaderBytes + kTrailerBytes)
        return Err(std::string("bad batch length"));
    if (total > in.size())
        return Err("truncated batch: " + std::to_string(in.size()) + " of " +
                   std::to_string(total) + " octets");
    std::uint64_t sum = 0;
    std::memcpy(&sum, in.data() + total - kTrailerBytes, sizeof sum);
    if (to_le(sum) != XXH3_64bits(in.data(), total - kTrailerBytes))
        return Err(std::string("batch checksum mismatch"));
    if (flags & ~kBatchReplayed || reserved != 0)
        return Err(std::string("unknown batch flags"));

    DecodedBatch d;
    d.batch.replayed = (flags & kBatchReplayed) != 0;
    std::uint32_t records = 0, events = 0;
    std::uint16_t node_len = 0, version_len = 0;
    (void)(head.le(d.batch.id) && head.le(records) && head.le(events) && head.le(node_len) &&
           head.le(version_len));
    Get body{in.data() + kHeaderBytes, in.data() + total - kTrailerBytes};
    if (body.left() < std::size_t{node_len} + version_len)
        return Err(std::string("truncated origin"));
    d.origin.node_id.assign(reinterpret_cast<const char*>(body.p), node_len);
    body.p += node_len;
    d.origin.version.assign(reinterpret_cast<const char*>(body.p), version_len);
    body.p += version_len;
    if (records > body.left() / kMinRecordBytes ||
        events > (body.left() - std::size_t{records} * kMinRecordBytes) / kMinEventBytes)
        return Err(std::string("record counts exceed the batch"));
    d.batch.records.resize(records);
    for (std::uint32_t i = 0; i < records; ++i)
        if (!get_record(body, d.batch.records[i]))
            return Err("malformed record " + std::to_string(i));
    d.batch.events.resize(events);
    for (std::uint32_t i = 0; i < events; ++i)
        if (!get_event(body, d.batch.events[i]))
            return Err("malformed event " + std::to_string(i));
    if (body.left() != 0)
        return Err(std::string("trailing octets in batch"));
    consumed = total;
    return d;
}

} // namespace idpath::mirror
