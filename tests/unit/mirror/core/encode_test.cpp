// The log schema's encoders (controlplane/mirror/core/encode.hpp): JSON that parses back with
// the documented fields, odd handles escaped into valid JSON, and a binary batch that round-trips
// exactly and is refused whole when truncated or altered in any bit.

#include <arpa/inet.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>

#include "controlplane/mirror/core/encode.hpp"
#include "tests/unit/mirror/sample_records.hpp"

namespace idpath::mirror {
namespace {

using querylog::Record;

Record query(std::uint64_t seq, std::string_view handle)
{
    // 2026-11-23T02:40:36.123456789Z
    Record r = testing::query_record(3, seq, 1'795'401'636'123'456'789ull, handle);
    r.latency_ns = 4321;
    r.response_code = 100;
    r.request_bytes = 77;
    r.response_bytes = 60;
    testing::set_ipv4(r.client, 192, 0, 2, 7);
    testing::set_ipv4(r.server, 10, 1, 2, 3);
    return r;
}

Record heartbeat(std::uint64_t seq, std::uint64_t produced, std::uint64_t lost)
{
    return testing::heartbeat_record(3, seq, 1'795'401'640'000'000'000ull, produced, lost);
}

Batch sample_batch()
{
    Batch b;
    b.id = 42;
    b.records.push_back(query(1, "20.500.12345/abc"));
    Record v6 = query(2, std::string(200, 'x'));
    v6.family = 6;
    v6.transport = querylog::Transport::Tcp;
    EXPECT_EQ(::inet_pton(AF_INET6, "2001:db8::1", v6.client), 1);
    v6.flags |= querylog::kFlagMalformed;
    b.records.push_back(v6);
    b.records.push_back(heartbeat(3, 3, 1));
    b.events.push_back({7, 1'795'401'641'000'000'000ull, "table.load",
                        {{"path", "/var/lib/idpath/t.snap"}, {"handles", "12"}}});
    return b;
}

const Origin kOrigin{"node-a", "0.6.0"};

nlohmann::json parse(const std::string& s)
{
    return nlohmann::json::parse(s); // throws (fails the test) on invalid JSON or UTF-8
}

TEST(EncodeJson, QueryFields)
{
    std::string out;
    encode_json(query(9, "20.500.12345/abc"), kOrigin, false, out);
    const auto j = parse(out);
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(j["node_id"], "node-a");
    EXPECT_EQ(j["sw_version"], "0.6.0");
    EXPECT_EQ(j["kind"], "query");
    EXPECT_EQ(j["source"], 3);
    EXPECT_EQ(j["seq"], 9);
    EXPECT_EQ(j["time"], "2026-11-23T02:40:36.123456789Z");
    EXPECT_EQ(j["time_ns"], 1'795'401'636'123'456'789ull);
    EXPECT_EQ(j["client_ip"], "192.0.2.7");
    EXPECT_EQ(j["client_port"], 40000);
    EXPECT_EQ(j["server_ip"], "10.1.2.3");
    EXPECT_EQ(j["server_port"], 2641);
    EXPECT_EQ(j["family"], 4);
    EXPECT_EQ(j["transport"], "udp");
    EXPECT_EQ(j["opcode"], 1);
    EXPECT_EQ(j["opcode_name"], "OC_RESOLUTION");
    EXPECT_EQ(j["response_code"], 100);
    EXPECT_EQ(j["response_code_name"], "RC_HANDLE_NOT_FOUND");
    EXPECT_EQ(j["values"], 0);
    EXPECT_EQ(j["request_bytes"], 77);
    EXPECT_EQ(j["response_bytes"], 60);
    EXPECT_EQ(j["datagrams"], 1);
    EXPECT_EQ(j["latency_ns"], 4321);
    EXPECT_EQ(j["action"], "allowed");
    EXPECT_EQ(j["silence"], "none");
    EXPECT_EQ(j["malformed"], false);
    EXPECT_EQ(j["oversize"], false);
    EXPECT_EQ(j["multi_datagram_request"], false);
    EXPECT_EQ(j["handle"], "20.500.12345/abc");
    EXPECT_FALSE(j.contains("handle_hex"));
    EXPECT_EQ(j["handle_length"], 16);
    EXPECT_EQ(j["handle_truncated"], false);
    EXPECT_EQ(j["replayed"], false);
}

TEST(EncodeJson, ARecursedQueryIsNamed)
{
    auto r = query(9, "88.100.1/miss");
    r.action = querylog::Action::Recursed;
    r.response_code = 0;
    std::string out;
    encode_json(r, kOrigin, false, out);
    EXPECT_EQ(parse(out)["action"], "recursed");
    r.action = querylog::Action::Resolved;
    r.response_code = 1;
    out.clear();
    encode_json(r, kOrigin, false, out);
    EXPECT_EQ(parse(out)["action"], "resolved");
}

TEST(EncodeJson, Ipv6UnknownCodesAndTruncation)
{
    Record r = query(1, std::string(300, 'h'));
    r.family = 6;
    ASSERT_EQ(::inet_pton(AF_INET6, "2001:db8::1", r.client), 1);
    r.opcode = 77777;
    r.response_code = 88888;
    r.silence = 200;
    r.transport = static_cast<querylog::Transport>(9);
    std::string out;
    encode_json(r, kOrigin, true, out);
    const auto j = parse(out);
    EXPECT_EQ(j["client_ip"], "2001:db8::1");
    EXPECT_EQ(j["opcode_name"], "");
    EXPECT_EQ(j["response_code_name"], "");
    EXPECT_EQ(j["silence"], "200");
    EXPECT_EQ(j["transport"], "9");
    EXPECT_EQ(j["handle"], std::string(querylog::kHandleBytes, 'h'));
    EXPECT_EQ(j["handle_length"], 300);
    EXPECT_EQ(j["handle_truncated"], true);
    EXPECT_EQ(j["replayed"], true);
}

TEST(EncodeJson, Ipv6TextIsRfc5952)
{
    // Against inet_ntop (RFC 5952 too), on addresses with zero runs of every length and place;
    // glibc prints ::a.b.c.d for a 96-bit zero prefix, which the schema does not, so not those.
    const char* fixed[] = {"::1", "2001:db8::1", "2001:db8:0:1:1:1:1:1", "2001:0:0:1::1", "fe80::", "::",
                           "1:0:0:2:0:0:0:3", "1::2:0:0:3", "ff02::1:ff00:1"};
    std::uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; ++i) {
        Record r = query(1, "h");
        r.family = 6;
        if (i < static_cast<int>(std::size(fixed))) {
            ASSERT_EQ(::inet_pton(AF_INET6, fixed[i], r.client), 1);
        } else {
            for (auto& octet : r.client) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17; // xorshift64
                octet = (x & 3) ? 0 : static_cast<std::uint8_t>(x >> 8); // mostly zeros: many runs
            }
            r.client[0] |= static_cast<std::uint8_t>(i & 1); // a nonzero prefix now and then
        }
        static constexpr std::uint8_t kZero[12] = {};
        if (std::memcmp(r.client, kZero, 12) == 0 && i >= 6)
            continue;
        char want[INET6_ADDRSTRLEN];
        ASSERT_NE(::inet_ntop(AF_INET6, r.client, want, sizeof want), nullptr);
        std::string out;
        encode_json(r, kOrigin, false, out);
        if (std::string(want).find('.') != std::string::npos)
            continue; // ::ffff:0:a.b.c.d forms glibc prints dotted
        ASSERT_EQ(parse(out)["client_ip"], want) << i;
    }
}

TEST(EncodeJson, OddHandlesAreValidJson)
{
    struct Case {
        std::string handle;
        std::string text;     // what the parsed "handle" must be
        bool hex;             // whether handle_hex must be present
    };
    const Case cases[] = {
        {"a\"b\\c", "a\"b\\c", false},
        {std::string("x\0y\n\t\x01\x1f\x7f", 8), std::string("x\0y\n\t\x01\x1f\x7f", 8), false},
        {"\xe4\xb8\xad\xe6\x96\x87/\xf0\x9f\x98\x80", "\xe4\xb8\xad\xe6\x96\x87/\xf0\x9f\x98\x80", false},
        {"a\xff" "b", "a\xef\xbf\xbd" "b", true},                 // invalid octet
        {"\xc3", "\xef\xbf\xbd", true},                            // cut sequence
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true}, // UTF-16 surrogate
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", true},            // overlong
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true}, // > U+10FFFF
    };
    for (const Case& c : cases) {
        std::string out;
        encode_json(query(1, c.handle), kOrigin, false, out);
        SCOPED_TRACE(out);
        const auto j = parse(out);
        EXPECT_EQ(j["handle"].get<std::string>(), c.text);
        ASSERT_EQ(j.contains("handle_hex"), c.hex);
        if (c.hex) {
            std::string hex;
            for (unsigned char ch : c.handle) {
                static const char* d = "0123456789abcdef";
                hex += d[ch >> 4];
                hex += d[ch & 15];
            }
            EXPECT_EQ(j["handle_hex"], hex);
        }
    }
    // Every single octet value, alone and after a lead octet, in a maximal-length handle.
    for (int v = 0; v < 256; ++v) {
        std::string h(querylog::kHandleBytes, static_cast<char>(v));
        h[0] = '\xe4';
        std::string out;
        encode_json(query(1, h), kOrigin, false, out);
        EXPECT_NO_THROW(parse(out)) << v;
    }
}

TEST(EncodeJson, OriginAndEventsEscaped)
{
    const Origin odd{"node \"q\"\n\xff", "1.0"};
    Event e{5, 1'795'401'641'000'000'000ull, "config.reload", {{"key\\", "v\x01\xfe"}}};
    std::string out;
    encode_json(e, odd, false, out);
    const auto j = parse(out);
    EXPECT_EQ(j["node_id"], "node \"q\"\n\xef\xbf\xbd");
    EXPECT_EQ(j["kind"], "event");
    EXPECT_EQ(j["source"], kControlSource);
    EXPECT_EQ(j["seq"], 5);
    EXPECT_EQ(j["time"], "2026-11-23T02:40:41.000000000Z");
    EXPECT_EQ(j["category"], "config.reload");
    EXPECT_EQ(j["fields"]["key\\"], "v\x01\xef\xbf\xbd");
}

TEST(EncodeJson, EncoderMatchesTheLines)
{
    // JsonEncoder (one record per message: Kafka, syslog) must write exactly what
    // encode_json_lines writes for the same batch, line for line.
    const Batch b = sample_batch();
    std::string lines;
    encode_json_lines(b, kOrigin, lines);
    const JsonEncoder json(kOrigin);
    std::string one_by_one;
    for (const auto& r : b.records) {
        json.record(r, b.replayed, one_by_one);
        one_by_one += '\n';
    }
    for (const auto& e : b.events) {
        json.event(e, b.replayed, one_by_one);
        one_by_one += '\n';
    }
    EXPECT_EQ(one_by_one, lines);
}

TEST(EncodeJson, LinesOnePerRecordAndEvent)
{
    Batch b = sample_batch();
    b.replayed = true;
    std::string out;
    encode_json_lines(b, kOrigin, out);
    std::vector<nlohmann::json> lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(parse(out.substr(start, nl - start)));
    EXPECT_EQ(start, out.size());
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[1]["client_ip"], "2001:db8::1");
    EXPECT_EQ(lines[1]["transport"], "tcp");
    EXPECT_EQ(lines[1]["malformed"], true);
    EXPECT_EQ(lines[2]["kind"], "heartbeat");
    EXPECT_EQ(lines[2]["produced"], 3);
    EXPECT_EQ(lines[2]["lost"], 1);
    EXPECT_EQ(lines[3]["kind"], "event");
    EXPECT_EQ(lines[3]["fields"]["handles"], "12");
    for (const auto& l : lines)
        EXPECT_EQ(l["replayed"], true);
}

void expect_same(const Batch& a, const Batch& b)
{
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.replayed, b.replayed);
    ASSERT_EQ(a.records.size(), b.records.size());
    for (std::size_t i = 0; i < a.records.size(); ++i) {
        Record x = a.records[i];
        if (x.kind == querylog::Kind::Heartbeat) {
            // Only the heartbeat's own fields travel.
            Record h{};
            h.seq = x.seq;
            h.time_ns = x.time_ns;
            h.source = x.source;
            h.kind = x.kind;
            querylog::set_heartbeat_body(h, querylog::heartbeat_body(x));
            x = h;
        } else {
            std::memset(x.handle + x.handle_stored, 0, querylog::kHandleBytes - x.handle_stored);
        }
        EXPECT_EQ(std::memcmp(&x, &b.records[i], sizeof x), 0) << "record " << i;
    }
    ASSERT_EQ(a.events.size(), b.events.size());
    for (std::size_t i = 0; i < a.events.size(); ++i) {
        EXPECT_EQ(a.events[i].seq, b.events[i].seq);
        EXPECT_EQ(a.events[i].time_ns, b.events[i].time_ns);
        EXPECT_EQ(a.events[i].category, b.events[i].category);
        EXPECT_EQ(a.events[i].fields, b.events[i].fields);
    }
}

TEST(EncodeBinary, RoundTrip)
{
    const Batch b = sample_batch();
    std::string out = "prefix";
    encode_binary(b, kOrigin, out);
    encode_binary(Batch{}, kOrigin, out); // a second, empty batch right after
    ByteSpan in = as_bytes(out).subspan(6);
    std::size_t used = 0;
    auto d = decode_binary(in, used);
    ASSERT_TRUE(d.ok()) << d.error();
    expect_same(b, d->batch);
    EXPECT_EQ(d->origin.node_id, "node-a");
    EXPECT_EQ(d->origin.version, "0.6.0");
    std::size_t used2 = 0;
    auto d2 = decode_binary(in.subspan(used), used2);
    ASSERT_TRUE(d2.ok()) << d2.error();
    EXPECT_EQ(used + used2, in.size());
    EXPECT_EQ(d2->batch.size(), 0u);
}

TEST(EncodeBinary, RefusesEveryTruncationAndBitFlip)
{
    std::string out;
    encode_binary(sample_batch(), kOrigin, out);
    const ByteSpan all = as_bytes(out);
    for (std::size_t n = 0; n < all.size(); ++n) {
        std::size_t used = 99;
        auto d = decode_binary(all.first(n), used);
        EXPECT_FALSE(d.ok()) << "prefix of " << n;
        EXPECT_EQ(used, 0u);
    }
    for (std::size_t i = 0; i < out.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = out;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            std::size_t used = 0;
            EXPECT_FALSE(decode_binary(as_bytes(bad), used).ok()) << "octet " << i << " bit " << bit;
        }
}

TEST(EncodeBinary, RefusesOtherVersion)
{
    std::string out;
    encode_binary(sample_batch(), kOrigin, out);
    out[4] = 2;
    std::size_t used = 0;
    auto d = decode_binary(as_bytes(out), used);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().find("version"), std::string::npos);
}

} // namespace
} // namespace idpath::mirror
