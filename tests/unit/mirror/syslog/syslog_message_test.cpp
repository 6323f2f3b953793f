// The syslog sink without a receiver: RFC 5424 message text, octet-counting frames, escaping,
// the reconnect backoff, option checks and a refused connection.

#include "controlplane/mirror/syslog/syslog_message.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <string_view>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/syslog/backoff.hpp"
#include "controlplane/mirror/syslog/syslog_sink.hpp"
#include "drivers/socket/unique_fd.hpp"
#include "tests/unit/mirror/syslog/syslog_test_util.hpp"

namespace idpath::mirror::syslog {
namespace {

using namespace std::chrono_literals;
using mirror::testing::event;
using mirror::testing::heartbeat;
using mirror::testing::kBaseNs;
using mirror::testing::query;

std::string timestamp(std::uint64_t ns)
{
    std::string out;
    append_timestamp(ns, out);
    return out;
}

std::string sd_value(std::string_view v)
{
    std::string out;
    append_sd_value(v, out);
    return out;
}

std::string header_field(std::string_view v, std::size_t max)
{
    std::string out;
    append_header_field(v, max, out);
    return out;
}

TEST(SyslogMessage, TimestampIsRfc3339UtcWithMicroseconds)
{
    EXPECT_EQ(timestamp(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(timestamp(kBaseNs + 123'456'789), "2025-11-23T02:40:36.123456Z"); // cut, not rounded
    EXPECT_EQ(timestamp(951782400ull * 1'000'000'000 + 999'999'999), "2000-02-29T00:00:00.999999Z");
    EXPECT_EQ(timestamp(4102444799ull * 1'000'000'000 + 1000), "2099-12-31T23:59:59.000001Z");
}

TEST(SyslogMessage, SdValuesEscapeAndReplaceInvalidUtf8)
{
    EXPECT_EQ(sd_value(R"(a"b\c]d)"), R"(a\"b\\c\]d)");
    EXPECT_EQ(sd_value("plain [x=y]"), R"(plain [x=y\])");
    EXPECT_EQ(sd_value("n\xc3\xbc" "de \xe4\xb8\xad \xf0\x9f\x98\x80"), "n\xc3\xbc" "de \xe4\xb8\xad \xf0\x9f\x98\x80");
    EXPECT_EQ(sd_value("\xff"), "?");
    EXPECT_EQ(sd_value("\xc0\xaf"), "??");         // overlong '/'
    EXPECT_EQ(sd_value("\xed\xa0\x80"), "???");    // a UTF-16 surrogate
    EXPECT_EQ(sd_value("\xf4\x90\x80\x80"), "????"); // above U+10FFFF
    EXPECT_EQ(sd_value("ok\xe2\x82"), "ok??");     // cut short
    EXPECT_EQ(sd_value(std::string_view("a\0b", 3)), std::string("a\0b", 3));
    EXPECT_EQ(sd_value(""), "");
}

TEST(SyslogMessage, HeaderFieldsArePrintableAsciiAndBounded)
{
    EXPECT_EQ(header_field("", 48), "-");
    EXPECT_EQ(header_field("my host\tname", 48), "my_host_name");
    EXPECT_EQ(header_field("h\xc3\xbc", 48), "h__");
    EXPECT_EQ(header_field(std::string(300, 'x'), 255), std::string(255, 'x'));
}

TEST(SyslogMessage, SdIdValidity)
{
    EXPECT_TRUE(valid_sd_id("idpath@32473"));
    EXPECT_TRUE(valid_sd_id(std::string(32, 'a')));
    EXPECT_FALSE(valid_sd_id(std::string(33, 'a')));
    EXPECT_FALSE(valid_sd_id(""));
    for (const char* bad : {"a b", "a=b", "a]b", "a\"b", "a\x7f", "\xc3\xbc"})
        EXPECT_FALSE(valid_sd_id(bad)) << bad;
}

class Formatter : public ::testing::Test {
protected:
    Origin origin_{R"(node "7"\x])", "1.2.3"};
    MessageIdentity identity_{"resolver-1.example", "idpathd", "idpath@32473"};
    MessageFormatter formatter_{origin_, identity_};
    const std::string node_ = R"(node="node \"7\"\\x\]")";

    std::string json(const querylog::Record& r, bool replayed)
    {
        std::string out;
        encode_json(r, origin_, replayed, out);
        return out;
    }
};

TEST_F(Formatter, QueryMessage)
{
    const auto r = query(3, 7);
    std::string out;
    formatter_.message(r, false, out);
    EXPECT_EQ(out, "<134>1 2025-11-23T02:40:44.641975Z resolver-1.example idpathd - query [idpath@32473 " + node_ +
                       " source=\"3\" seq=\"7\" replayed=\"0\"] " + json(r, false));
}

TEST_F(Formatter, HeartbeatSeverityFollowsLoss)
{
    std::string clean, lossy;
    formatter_.message(heartbeat(2, 100, 0), true, clean);
    formatter_.message(heartbeat(2, 101, 5), true, lossy);
    EXPECT_EQ(clean.substr(0, 48), "<134>1 2025-11-23T02:40:36.000100Z resolver-1.ex");
    EXPECT_NE(clean.find(" idpathd - heartbeat [idpath@32473 " + node_ + " source=\"2\" seq=\"100\" replayed=\"1\"] {"),
              std::string::npos)
        << clean;
    EXPECT_EQ(lossy.substr(0, 5), "<133>");
}

TEST_F(Formatter, EventMessage)
{
    const Event e = event(4, "table.load");
    std::string out;
    formatter_.message(e, false, out);
    std::string body;
    encode_json(e, origin_, false, body);
    EXPECT_EQ(out, "<133>1 2025-11-23T02:40:36.999999Z resolver-1.example idpathd - table.load [idpath@32473 " + node_ +
                       " source=\"65535\" seq=\"4\" replayed=\"0\"] " + body);

    std::string odd;
    formatter_.message(event(5, "admin action: something much longer than 32"), false, odd);
    EXPECT_NE(odd.find(" idpathd - admin_action:_something_much_lon [idpath@32473 "), std::string::npos) << odd;
    std::string empty;
    formatter_.message(event(6, ""), false, empty);
    EXPECT_NE(empty.find(" idpathd - - [idpath@32473 "), std::string::npos) << empty;
}

TEST_F(Formatter, FramesAreOctetCounted)
{
    Batch b;
    b.replayed = true;
    b.records = {query(1, 1), query(1, 2, "20.500.1/\xc3\xbc\"]\\ \xff"), heartbeat(1, 3, 1)};
    b.events = {event(1, "config.reload")};
    std::string frames;
    formatter_.frames(b, frames);

    std::vector<std::string> expected;
    for (const auto& r : b.records) {
        expected.emplace_back();
        formatter_.message(r, true, expected.back());
    }
    expected.emplace_back();
    formatter_.message(b.events[0], true, expected.back());

    std::string_view rest = frames;
    for (const std::string& want : expected) {
        const std::size_t sp = rest.find(' ');
        ASSERT_NE(sp, std::string_view::npos);
        const std::size_t len = std::stoul(std::string(rest.substr(0, sp)));
        ASSERT_EQ(std::to_string(len), rest.substr(0, sp)); // no leading zeros or signs
        ASSERT_LE(sp + 1 + len, rest.size());
        EXPECT_EQ(rest.substr(sp + 1, len), want);
        EXPECT_NE(want.find("replayed=\"1\"] {"), std::string::npos);
        rest.remove_prefix(sp + 1 + len);
    }
    EXPECT_TRUE(rest.empty());
}

TEST_F(Formatter, LargestQueryMessageFitsTheCommonReceiverLimit)
{
    // Every handle octet escaped in JSON ("\u0001") and repeated as hex: the largest a query
    // record makes (1837 octets with this node id). RFC 5424 section 6.1: receivers should
    // accept 2048 octets; rsyslog and syslog-ng take 8 KiB by default.
    std::string handle(querylog::kHandleBytes + 10, '\x01');
    std::string out;
    formatter_.message(query(0xfffe, ~0ull, handle), true, out);
    EXPECT_LE(out.size(), 2048u);
}

TEST(SyslogMessageIdentity, OwnSdIdAndHostname)
{
    MessageFormatter f({"n", "v"}, {"h", "app", "idpath@99999"});
    std::string out;
    f.message(query(0, 1), false, out);
    EXPECT_NE(out.find(" h app - query [idpath@99999 node=\"n\" source=\"0\" seq=\"1\" replayed=\"0\"] {"),
              std::string::npos)
        << out;
}

TEST(SyslogBackoff, DoublesWithJitterUpToTheCapAndResets)
{
    Backoff b(100ms, 1000ms);
    const auto t0 = Backoff::Clock::now();
    EXPECT_FALSE(b.waiting(t0));
    b.failed(t0); // waits 50..100 ms
    EXPECT_TRUE(b.waiting(t0));
    EXPECT_TRUE(b.waiting(t0 + 49ms));
    EXPECT_FALSE(b.waiting(t0 + 100ms));
    b.failed(t0); // 100..200 ms
    EXPECT_TRUE(b.waiting(t0 + 99ms));
    EXPECT_FALSE(b.waiting(t0 + 200ms));
    for (int i = 0; i < 20; ++i)
        b.failed(t0); // capped: 500..1000 ms
    EXPECT_TRUE(b.waiting(t0 + 499ms));
    EXPECT_FALSE(b.waiting(t0 + 1000ms));
    b.succeeded();
    EXPECT_FALSE(b.waiting(t0));
    b.failed(t0); // from the start again
    EXPECT_TRUE(b.waiting(t0 + 49ms));
    EXPECT_FALSE(b.waiting(t0 + 100ms));
}

TEST(SyslogSinkOptions, BadOptionsAreRefusedAtConstruction)
{
    const Origin origin{"n", "v"};
    auto refused = [&](const SyslogSinkOptions& o, std::string_view part) {
        auto sink = make_syslog_sink(o, origin);
        ASSERT_FALSE(sink.ok()) << part;
        EXPECT_NE(sink.error().find(part), std::string::npos) << sink.error();
    };
    SyslogSinkOptions o;
    refused(o, "host is empty");
    o.host = "127.0.0.1";
    o.sd_id = "bad id";
    refused(o, "sd_id");
    o.sd_id = "idpath@32473";
    o.ca_file = "/nonexistent/ca.pem";
    refused(o, "need tls");
    o.tls = true;
    refused(o, "/nonexistent/ca.pem");
    o.ca_file.clear();
    o.key_file = "/nonexistent/key.pem";
    refused(o, "cert_file is not");
    o.key_file.clear();
    o.cert_file = "/nonexistent/cert.pem";
    refused(o, "/nonexistent/cert.pem");
    o.cert_file.clear();
    o.io_timeout_ms = 0;
    refused(o, "positive");
    o.io_timeout_ms = 1000;
    o.backoff_initial_ms = 0;
    refused(o, "backoff");
}

/// A loopback port nothing listens on (bound, then closed).
std::uint16_t closed_port()
{
    socket::UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return 0;
    return ntohs(a.sin_port);
}

TEST(SyslogSinkOptions, RefusedConnectionFailsTheBatchAndBacksOff)
{
    SyslogSinkOptions o;
    o.host = "127.0.0.1";
    o.port = closed_port();
    ASSERT_NE(o.port, 0);
    o.backoff_initial_ms = 5000;
    o.backoff_max_ms = 10000;
    auto sink = make_syslog_sink(o, {"n", "v"});
    ASSERT_TRUE(sink.ok()) << sink.error();
    EXPECT_EQ((*sink)->kind(), "syslog");
    EXPECT_TRUE((*sink)->ready());
    EXPECT_TRUE((*sink)->deliver(Batch{}).ok()); // nothing to send: no connection needed
    Batch b;
    b.records = {query(0, 1)};
    auto r = (*sink)->deliver(b);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("refused"), std::string::npos) << r.error();
    EXPECT_FALSE((*sink)->ready());
    EXPECT_TRUE((*sink)->flush(0ms));
}

} // namespace
} // namespace idpath::mirror::syslog
