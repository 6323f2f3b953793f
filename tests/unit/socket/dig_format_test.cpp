// idpath-dig's formatting: exact text and JSON for known replies.

#include <openssl/evp.h>

#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "controlplane/tools/dig_format.hpp"
#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/site_info.hpp"
#include "dataplane/wire/value.hpp"
#include "tests/unit/socket/socket_fixture.hpp"

namespace idpath::tools {
namespace {

constexpr std::uint32_t kId = 305419896;       // 0x12345678
constexpr std::uint32_t kExpires = 1795413600; // 2026-11-23 06:00:00 UTC
constexpr std::uint32_t kFlags = 0x99000000;   // AT REC CA PO

/// The message (no envelope) of a response built by `body`.
std::vector<std::uint8_t> response(std::uint32_t rc, std::uint32_t flags,
                                   const std::function<void(ByteWriter&)>& body,
                                   std::uint32_t opcode = 1)
{
    std::vector<std::uint8_t> buf(16384);
    wire::MessageWriter mw(buf);
    body(mw.body());
    wire::Header h;
    h.opcode = opcode;
    h.response_code = rc;
    h.op_flags = flags;
    h.site_serial = 1;
    h.expiration = kExpires;
    wire::Envelope e;
    e.request_id = kId;
    const std::size_t n = mw.finish(e, h);
    return {buf.begin() + wire::kEnvelopeSize, buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

std::vector<wire::HandleValue> abc_values()
{
    wire::AdminRecord admin;
    admin.admin_handle = "0.NA/88.100.1";
    admin.admin_index = 200;
    const auto a = wire::encode_admin_record(admin);
    return {test::value(1, "URL", "https://example.org/a"),
            test::value(2, "EMAIL", "a@example.org"),
            test::value(100, "HS_ADMIN", std::string(a.begin(), a.end()))};
}

void resolution_body(ByteWriter& w, const std::string& handle,
                     const std::vector<wire::HandleValue>& values)
{
    w.string(std::string_view(handle));
    w.u32(static_cast<std::uint32_t>(values.size()));
    for (const auto& v : values)
        wire::encode_value(w, v);
}

DigExchange exchange_for(std::vector<std::uint8_t> message, bool tcp = false)
{
    DigExchange x;
    x.server = tcp ? "[::1]:2641" : "127.0.0.1:2641";
    x.tcp = tcp;
    x.question = "88.100.1/abc";
    x.request_id = kId;
    x.reply.envelope.request_id = kId;
    x.reply.envelope.message_length = static_cast<std::uint32_t>(message.size());
    x.reply.bytes = wire::kEnvelopeSize + message.size();
    x.reply.datagrams = 1;
    x.reply.rtt_ms = 0.4;
    x.reply.message = std::move(message);
    return x;
}

TEST(DigFormat, SuccessfulResolutionAsText)
{
    const DigExchange x = exchange_for(response(
        1, kFlags, [](ByteWriter& w) { resolution_body(w, "88.100.1/abc", abc_values()); }));
    const DigOutput out = format_text(x, {});
    EXPECT_EQ(out.exit_code, dig_exit::kSuccess);
    EXPECT_EQ(
        out.text,
        ";; ->>HEADER<<- opcode: RESOLUTION; status: RC_SUCCESS (1); id: 305419896\n"
        ";; Flags: AT REC CA PO; version 2.11; site serial 1; expires 2026-11-23 06:00:00 UTC\n"
        ";; QUESTION: 88.100.1/abc\n"
        ";; ANSWER: 3 values\n"
        "   1  URL           ttl 86400s  rwr-  2026-01-02T03:04:05Z  \"https://example.org/a\"\n"
        "   2  EMAIL         ttl 86400s  rwr-  2026-01-02T03:04:05Z  \"a@example.org\"\n"
        " 100  HS_ADMIN      ttl 86400s  rwr-  2026-01-02T03:04:05Z  admin 0.NA/88.100.1:200 perms "
        "0x0fff\n"
        ";; Received " +
            std::to_string(x.reply.bytes) +
            " B in 1 datagram from 127.0.0.1:2641 (UDP) in 0.4 ms\n");
}

TEST(DigFormat, HexShowsRawValueData)
{
    const DigExchange x = exchange_for(response(1, kFlags, [](ByteWriter& w) {
        resolution_body(w, "88.100.1/abc", {test::value(1, "URL", "hi")});
    }));
    const DigOutput out = format_text(x, {true});
    EXPECT_NE(out.text.find("  0x6869\n"), std::string::npos) << out.text;
}

TEST(DigFormat, ErrorReplyAsTextOverTcp)
{
    DigExchange x = exchange_for(
        response(100, 0x19000000,
                 [](ByteWriter& w) { w.string(std::string_view("Handle Not Found")); }),
        true);
    x.reply.datagrams = 1;
    const DigOutput out = format_text(x, {});
    EXPECT_EQ(out.exit_code, dig_exit::kNegative);
    EXPECT_EQ(
        out.text,
        ";; ->>HEADER<<- opcode: RESOLUTION; status: RC_HANDLE_NOT_FOUND (100); id: 305419896\n"
        ";; Flags: REC CA PO; version 2.11; site serial 1; expires 2026-11-23 06:00:00 UTC\n"
        ";; QUESTION: 88.100.1/abc\n"
        ";; ERROR: \"Handle Not Found\"\n"
        ";; Received " +
            std::to_string(x.reply.bytes) + " B from [::1]:2641 (TCP) in 0.4 ms\n");
}

TEST(DigFormat, ReferralPrintsItsValues)
{
    const DigExchange x = exchange_for(response(303, 0x19000000, [](ByteWriter& w) {
        w.string(std::string_view(""));
        w.u32(1);
        wire::encode_value(w, test::value(1, "HS_SERV.PREFIX", "0.NA/88"));
    }));
    const DigOutput out = format_text(x, {});
    EXPECT_EQ(out.exit_code, dig_exit::kNegative);
    EXPECT_NE(
        out.text.find(";; REFERRAL: (service information follows)\n;; SERVICE: 1 value\n"
                      "   1  HS_SERV.PREFIX ttl 86400s  rwr-  2026-01-02T03:04:05Z  \"0.NA/88\"\n"),
        std::string::npos)
        << out.text;
}

TEST(DigFormat, SiteValuesAreDecoded)
{
    wire::SiteInfo site;
    site.serial = 3;
    wire::SiteServer srv;
    srv.server_id = 1;
    ASSERT_TRUE(wire::parse_site_address("192.0.2.7", srv.address));
    srv.interfaces = {{wire::site::kInterfaceQuery, wire::site::kProtocolUdp, 2641},
                      {wire::site::kInterfaceAdminAndQuery, wire::site::kProtocolTcp, 2641}};
    site.servers = {srv};
    site.attributes = {{"desc", "Example"}};
    const auto data = wire::encode_site_info(site);
    wire::HandleValue v = test::value(1, "HS_SITE", std::string(data.begin(), data.end()));
    EXPECT_EQ(value_data_text(v, false),
              "site 2.11 serial 3 primary, hash by handle, 1 server\n"
              "        server 1 192.0.2.7 udp/2641 query tcp/2641 admin+query\n"
              "        attr desc \"Example\"");
}

TEST(DigFormat, VlistAndBinaryData)
{
    const auto vl =
        wire::encode_value_reference_list({{"0.NA/88.100.1", 200}, {"88.100.1/admins", 300}});
    EXPECT_EQ(value_data_text(test::value(1, "HS_VLIST", std::string(vl.begin(), vl.end())), false),
              "vlist 0.NA/88.100.1:200, 88.100.1/admins:300");
    EXPECT_EQ(value_data_text(test::value(1, "BLOB", std::string("\x01\x02\xff", 3)), false),
              "0x0102ff");
    EXPECT_EQ(value_data_text(test::value(1, "DESC", "say \"hi\""), false), "\"say \\\"hi\\\"\"");
    EXPECT_EQ(value_data_text(test::value(1, "DESC", ""), false), "\"\"");
}

TEST(DigFormat, PrintableUtf8)
{
    EXPECT_TRUE(is_printable_utf8(as_bytes("plain text\twith tab")));
    EXPECT_TRUE(is_printable_utf8(as_bytes("\xe6\xa0\x87\xe8\xaf\x86"))); // 标识
    EXPECT_FALSE(is_printable_utf8(as_bytes("line\n")));
    EXPECT_FALSE(is_printable_utf8(as_bytes("\xc0\xaf")));     // overlong
    EXPECT_FALSE(is_printable_utf8(as_bytes("\xe6\xa0")));     // cut short
    EXPECT_FALSE(is_printable_utf8(as_bytes("\xed\xa0\x80"))); // surrogate
    EXPECT_FALSE(is_printable_utf8(as_bytes("\xc2\x85")));     // C1 control
}

TEST(DigFormat, FlagsAndTimes)
{
    EXPECT_EQ(flags_string(0x19000000), "REC CA PO");
    EXPECT_EQ(flags_string(0x00800000), "RD");
    EXPECT_EQ(flags_string(0), "-");
    EXPECT_EQ(flags_string(0x80000001), "AT 0x00000001");
    EXPECT_EQ(utc_time(kExpires), "2026-11-23 06:00:00 UTC");
    EXPECT_EQ(iso_time(1767323045), "2026-01-02T03:04:05Z");
}

TEST(DigFormat, MalformedRepliesExitFour)
{
    DigExchange x = exchange_for(response(1, kFlags, [](ByteWriter& w) { w.u32(7); }));
    const DigOutput out = format_text(x, {});
    EXPECT_EQ(out.exit_code, dig_exit::kMalformed);
    EXPECT_NE(out.text.find(";; MALFORMED REPLY: body: "), std::string::npos) << out.text;
    x.reply.message.resize(10);
    EXPECT_EQ(format_json(x, {}).exit_code, dig_exit::kMalformed);
}

std::vector<std::uint8_t> sha256(ByteSpan data)
{
    std::vector<std::uint8_t> out(32);
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

TEST(DigFormat, RequestDigestIsChecked)
{
    const auto request = test::make_request("88.100.1/abc", kId);
    const ByteSpan hb = socket::request_header_and_body(request);
    const auto digest = sha256(hb);
    const auto build = [&](std::vector<std::uint8_t> d) {
        DigExchange x =
            exchange_for(response(1, kFlags | wire::opflag::kReturnDigest, [&](ByteWriter& w) {
                w.u8(3);
                w.bytes(d);
                resolution_body(w, "88.100.1/abc", abc_values());
            }));
        x.digest_requested = true;
        x.request_header_and_body.assign(hb.begin(), hb.end());
        return x;
    };
    const DigOutput good = format_text(build(digest), {});
    EXPECT_EQ(good.exit_code, dig_exit::kSuccess);
    EXPECT_NE(good.text.find(";; DIGEST: SHA-256 ok\n"), std::string::npos) << good.text;
    auto wrong = digest;
    wrong[0] ^= 1;
    const DigOutput bad = format_text(build(wrong), {});
    EXPECT_EQ(bad.exit_code, dig_exit::kMalformed);
    EXPECT_NE(bad.text.find(";; DIGEST: SHA-256 mismatch\n"), std::string::npos) << bad.text;
    const auto j = nlohmann::json::parse(format_json(build(wrong), {}).text);
    EXPECT_EQ(j["digest"]["status"], "mismatch");
}

TEST(DigFormat, JsonSchema)
{
    const DigExchange x = exchange_for(response(
        1, kFlags, [](ByteWriter& w) { resolution_body(w, "88.100.1/abc", abc_values()); }));
    const DigOutput out = format_json(x, {});
    EXPECT_EQ(out.exit_code, dig_exit::kSuccess);
    const auto j = nlohmann::json::parse(out.text);
    EXPECT_EQ(j["status"], "success");
    EXPECT_EQ(j["response_code"], 1);
    EXPECT_EQ(j["response_code_name"], "RC_SUCCESS");
    EXPECT_EQ(j["opcode_name"], "OC_RESOLUTION");
    EXPECT_EQ(j["flags"], nlohmann::json({"AT", "REC", "CA", "PO"}));
    EXPECT_EQ(j["handle"], "88.100.1/abc");
    EXPECT_EQ(j["request_id"], kId);
    EXPECT_EQ(j["server"], "127.0.0.1:2641");
    EXPECT_EQ(j["transport"], "udp");
    EXPECT_EQ(j["datagrams"], 1);
    EXPECT_EQ(j["bytes"], x.reply.bytes);
    EXPECT_DOUBLE_EQ(j["rtt_ms"].get<double>(), 0.4);
    ASSERT_EQ(j["values"].size(), 3u);
    const auto& url = j["values"][0];
    EXPECT_EQ(url["index"], 1);
    EXPECT_EQ(url["type"], "URL");
    EXPECT_EQ(url["ttl"], 86400);
    EXPECT_EQ(url["ttl_type"], "relative");
    EXPECT_EQ(url["timestamp"], 1767323045);
    EXPECT_EQ(url["permissions"], "rwr-");
    EXPECT_EQ(url["data"], "https://example.org/a");
    EXPECT_EQ(url["data_hex"], "68747470733a2f2f6578616d706c652e6f72672f61");
    EXPECT_TRUE(url["refs"].empty());
    EXPECT_EQ(j["values"][2]["decoded"]["admin_handle"], "0.NA/88.100.1");
    EXPECT_EQ(j["values"][2]["decoded"]["admin_index"], 200);
}

TEST(DigFormat, JsonForFailures)
{
    const auto j = nlohmann::json::parse(
        format_json_failure("127.0.0.1:2641", true, "88.100.1/abc", "timeout", "no reply"));
    EXPECT_EQ(j["status"], "timeout");
    EXPECT_EQ(j["error"], "no reply");
    EXPECT_EQ(j["transport"], "tcp");
}

} // namespace
} // namespace idpath::tools
