// The syslog sink against a real rsyslogd started by the test (rsyslogd.hpp): every record of
// a batch arrives once and rsyslog's RFC 5424 parser finds the right fields in it, over plain
// TCP and over TLS; certificates that should be refused are; an outage fails deliveries and
// backs off, and a restarted receiver gets them.

#include "controlplane/mirror/syslog/syslog_sink.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/syslog/syslog_message.hpp"
#include "tests/unit/mirror/syslog/rsyslogd.hpp"
#include "tests/unit/mirror/syslog/syslog_test_util.hpp"

namespace idpath::mirror {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::event;
using testing::heartbeat;
using testing::query;
using testing::Rsyslogd;

const Origin kOrigin{R"(node-7 "east"\])", "0.6.0"};
const std::string kSdNode = R"(node="node-7 \"east\"\\\]")";
const std::string kHostname = "resolver-7.example";

/// A batch like the exporter cuts: queries from three sources, heartbeats with and without
/// loss, events. Two handles are awkward: one with characters JSON and syslog escape, one of
/// the largest JSON a handle makes (longer than a record holds, every octet escaped), which
/// must still fit rsyslog's default 8 KiB message limit.
Batch make_batch(std::uint64_t id, std::uint64_t first_seq, std::size_t queries, bool replayed = false)
{
    Batch b;
    b.id = id;
    b.replayed = replayed;
    std::string worst(300, '\x01');
    for (std::size_t i = 0; i < worst.size(); i += 2)
        worst[i] = '\xff';
    for (std::size_t i = 0; i < queries; ++i) {
        const std::uint64_t seq = first_seq + i;
        const auto source = static_cast<std::uint16_t>(i % 3);
        if (i == 1)
            b.records.push_back(query(source, seq, "20.500.1/\xc3\xbc \"quoted\" ]\\ \xff end"));
        else if (i == 2)
            b.records.push_back(query(source, seq, worst));
        else
            b.records.push_back(query(source, seq));
    }
    b.records.push_back(heartbeat(0, first_seq + queries, 0));
    b.records.push_back(heartbeat(1, first_seq + queries + 1, 17));
    b.events.push_back(event(first_seq, "table.load"));
    b.events.push_back(event(first_seq + 1, "sink.state"));
    return b;
}

/// What rsyslog should have parsed out of each message of `b`, as its output lines hold it.
std::vector<nlohmann::json> expected_lines(const Batch& b)
{
    std::vector<nlohmann::json> out;
    auto line = [&](std::uint8_t severity, std::uint64_t time_ns, const std::string& msgid, std::uint16_t source,
                    std::uint64_t seq, std::string msg) {
        std::string time;
        syslog::append_timestamp(time_ns, time);
        out.push_back({{"version", "1"},
                       {"time", time},
                       {"hostname", kHostname},
                       {"app", "idpathd"},
                       {"procid", "-"},
                       {"msgid", msgid},
                       {"pri", std::to_string(16 * 8 + severity)},
                       {"sd", "[idpath@32473 " + kSdNode + " source=\"" + std::to_string(source) + "\" seq=\"" +
                                  std::to_string(seq) + "\" replayed=\"" + (b.replayed ? "1" : "0") + "\"]"},
                       {"msg", std::move(msg)}});
    };
    for (const auto& r : b.records) {
        std::string json;
        encode_json(r, kOrigin, b.replayed, json);
        const bool hb = r.kind == querylog::Kind::Heartbeat;
        const std::uint8_t severity = hb && querylog::heartbeat_body(r).lost > 0 ? 5 : 6;
        line(severity, r.time_ns, hb ? "heartbeat" : "query", r.source, r.seq, std::move(json));
    }
    for (const auto& e : b.events) {
        std::string json;
        encode_json(e, kOrigin, b.replayed, json);
        line(5, e.time_ns, e.category, kControlSource, e.seq, std::move(json));
    }
    return out;
}

/// Compares as multisets: every expected message exactly once, nothing else.
void expect_same_messages(std::vector<nlohmann::json> got, std::vector<nlohmann::json> want)
{
    auto key = [](const nlohmann::json& j) { return j.dump(); };
    auto by_key = [&](const nlohmann::json& a, const nlohmann::json& b) { return key(a) < key(b); };
    std::sort(got.begin(), got.end(), by_key);
    std::sort(want.begin(), want.end(), by_key);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(key(got[i]), key(want[i])) << "message " << i << " of " << want.size();
}

class SyslogRsyslog : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        if (::access(testing::kRsyslogd, X_OK) != 0)
            return;
        std::string tmpl = (fs::temp_directory_path() / "idpath-syslog-pki.XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr)
            return;
        pki_ = tmpl;
        pki_error_ = testing::make_test_pki(pki_);
    }
    static void TearDownTestSuite()
    {
        std::error_code ec;
        if (!pki_.empty())
            fs::remove_all(pki_, ec);
    }

    void SetUp() override
    {
        if (::access(testing::kRsyslogd, X_OK) != 0)
            GTEST_SKIP() << testing::kRsyslogd << " is not installed (apt-get install rsyslog)";
        ASSERT_FALSE(pki_.empty());
        ASSERT_EQ(pki_error_, "");
        std::string tmpl = (fs::temp_directory_path() / "idpath-syslog.XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        for (const char* f : {"ca.pem", "server.pem", "server.key"})
            fs::copy_file(pki_ / f, dir_ / f);
    }

    void TearDown() override
    {
        if (rsyslogd_) {
            if (HasFailure())
                std::fprintf(stderr, "%s\n", rsyslogd_->diagnostics().c_str());
            rsyslogd_.reset(); // stops it
        }
        std::error_code ec;
        if (!dir_.empty())
            fs::remove_all(dir_, ec);
    }

    Rsyslogd& start_rsyslogd(bool count_only = false)
    {
        rsyslogd_ = std::make_unique<Rsyslogd>(dir_, count_only);
        const std::string error = rsyslogd_->start();
        EXPECT_EQ(error, "");
        return *rsyslogd_;
    }

    SyslogSinkOptions plain_options() const
    {
        SyslogSinkOptions o;
        o.host = "127.0.0.1";
        o.port = rsyslogd_->ports().plain;
        o.hostname = kHostname;
        o.connect_timeout_ms = 5000;
        o.io_timeout_ms = 10000;
        return o;
    }

    SyslogSinkOptions tls_options() const
    {
        SyslogSinkOptions o = plain_options();
        o.port = rsyslogd_->ports().tls;
        o.tls = true;
        o.ca_file = (pki_ / "ca.pem").string();
        o.server_name = "localhost";
        return o;
    }

    static std::unique_ptr<Sink> make(const SyslogSinkOptions& o)
    {
        auto sink = make_syslog_sink(o, kOrigin);
        EXPECT_TRUE(sink.ok()) << sink.error();
        return sink.ok() ? std::move(sink.value()) : nullptr;
    }

    /// Delivers `batches` and checks that rsyslog wrote each of their messages once, parsed.
    void deliver_and_check(Sink& sink, const std::vector<Batch>& batches)
    {
        std::vector<nlohmann::json> want;
        for (const Batch& b : batches) {
            auto r = sink.deliver(b);
            ASSERT_TRUE(r.ok()) << r.error();
            auto lines = expected_lines(b);
            want.insert(want.end(), lines.begin(), lines.end());
        }
        auto got = rsyslogd_->wait_for(want.size(), 20s);
        std::this_thread::sleep_for(200ms); // duplicates would show up by now
        got = rsyslogd_->wait_for(want.size(), 0ms);
        expect_same_messages(got, want);
        // rsyslog reports messages it could not parse, and TLS or framing trouble, in its own log.
        const std::string own = rsyslogd_->diagnostics();
        for (const char* bad : {"malformed", "rror", "invalid", "raming"})
            EXPECT_EQ(own.find(bad), std::string::npos) << "rsyslogd said \"" << bad << "\": " << own;
    }

    static inline fs::path pki_;
    static inline std::string pki_error_;
    fs::path dir_;
    std::unique_ptr<Rsyslogd> rsyslogd_;
};

TEST_F(SyslogRsyslog, PlainTcpEveryRecordOnceParsed)
{
    start_rsyslogd();
    auto sink = make(plain_options());
    ASSERT_TRUE(sink);
    deliver_and_check(*sink, {make_batch(1, 1, 300), make_batch(2, 1000, 50, true)});
}

TEST_F(SyslogRsyslog, TlsEveryRecordOnceParsed)
{
    start_rsyslogd();
    auto sink = make(tls_options());
    ASSERT_TRUE(sink);
    deliver_and_check(*sink, {make_batch(1, 1, 300), make_batch(2, 1000, 50, true)});
}

TEST_F(SyslogRsyslog, TlsCheckedAgainstAnIpAddress)
{
    start_rsyslogd();
    SyslogSinkOptions o = tls_options();
    o.server_name.clear(); // the certificate's IP entry 127.0.0.1 must match host
    auto sink = make(o);
    ASSERT_TRUE(sink);
    deliver_and_check(*sink, {make_batch(1, 1, 20)});
}

TEST_F(SyslogRsyslog, TlsWithClientCertificate)
{
    start_rsyslogd();
    SyslogSinkOptions o = tls_options();
    o.port = rsyslogd_->ports().mtls;
    o.cert_file = (pki_ / "client.pem").string();
    o.key_file = (pki_ / "client.key").string();
    auto sink = make(o);
    ASSERT_TRUE(sink);
    deliver_and_check(*sink, {make_batch(1, 1, 20)});
}

/// A refused TLS connection: deliver() fails naming the reason, the sink backs off, and
/// nothing reaches rsyslog.
void expect_refused(Sink& sink, Rsyslogd& rsyslogd, std::string_view reason)
{
    auto r = sink.deliver(make_batch(1, 1, 5));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find(reason), std::string::npos) << r.error();
    EXPECT_FALSE(sink.ready());
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(rsyslogd.lines().empty());
}

TEST_F(SyslogRsyslog, TlsServerSignedByAnotherCaIsRefused)
{
    start_rsyslogd();
    SyslogSinkOptions o = tls_options();
    o.ca_file = (pki_ / "wrong-ca.pem").string();
    auto sink = make(o);
    ASSERT_TRUE(sink);
    expect_refused(*sink, *rsyslogd_, "server certificate for localhost refused");
}

TEST_F(SyslogRsyslog, TlsServerWithAnotherNameIsRefused)
{
    start_rsyslogd();
    SyslogSinkOptions o = tls_options();
    o.server_name = "syslog.example.org";
    auto sink = make(o);
    ASSERT_TRUE(sink);
    expect_refused(*sink, *rsyslogd_, "hostname mismatch");
}

TEST_F(SyslogRsyslog, TlsClientWithoutCertificateIsRefusedNotLost)
{
    // TLS 1.3: the server checks the client's certificate after the client has finished its
    // handshake; the refusal must still fail deliver() rather than lose the batch.
    start_rsyslogd();
    SyslogSinkOptions o = tls_options();
    o.port = rsyslogd_->ports().mtls;
    auto sink = make(o);
    ASSERT_TRUE(sink);
    expect_refused(*sink, *rsyslogd_, "tls");
}

/// rsyslogd stops: the next deliver() fails and the sink backs off; it comes back on the same
/// ports: deliveries work again and every batch delivered Ok arrived exactly once.
void outage_and_recovery(Rsyslogd& rsyslogd, Sink& sink, std::vector<nlohmann::json>& want)
{
    const Batch before = make_batch(1, 1, 100);
    auto r = sink.deliver(before);
    ASSERT_TRUE(r.ok()) << r.error();
    const auto first = expected_lines(before);
    want.insert(want.end(), first.begin(), first.end());
    ASSERT_EQ(rsyslogd.wait_for(want.size(), 20s).size(), want.size());

    const Rsyslogd::Ports ports = rsyslogd.ports();
    rsyslogd.stop();
    const Batch during = make_batch(2, 1000, 100);
    r = sink.deliver(during);
    ASSERT_FALSE(r.ok()) << "delivered to a stopped rsyslogd";
    EXPECT_FALSE(sink.ready());

    ASSERT_EQ(rsyslogd.start(ports), "");
    const auto deadline = Clock::now() + 10s;
    while (!sink.ready() && Clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(sink.ready()) << "backoff did not end";
    r = sink.deliver(during); // the runner's redelivery of the spooled batch
    ASSERT_TRUE(r.ok()) << r.error();
    const auto second = expected_lines(during);
    want.insert(want.end(), second.begin(), second.end());
    auto got = rsyslogd.wait_for(want.size(), 20s);
    std::this_thread::sleep_for(200ms);
    got = rsyslogd.wait_for(want.size(), 0ms);
    expect_same_messages(got, want);
}

TEST_F(SyslogRsyslog, PlainOutageAndRecovery)
{
    start_rsyslogd();
    SyslogSinkOptions o = plain_options();
    o.backoff_initial_ms = 1000; // long enough to see ready() false on a loaded machine
    auto sink = make(o);
    ASSERT_TRUE(sink);
    std::vector<nlohmann::json> want;
    outage_and_recovery(*rsyslogd_, *sink, want);
}

TEST_F(SyslogRsyslog, TlsOutageAndRecovery)
{
    start_rsyslogd();
    SyslogSinkOptions o = tls_options();
    o.backoff_initial_ms = 1000;
    auto sink = make(o);
    ASSERT_TRUE(sink);
    std::vector<nlohmann::json> want;
    outage_and_recovery(*rsyslogd_, *sink, want);
}

double thread_cpu_seconds()
{
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// Records per second into rsyslog over TLS on loopback: deliver() alone (formatting, TLS,
/// the kernel), and until rsyslog has parsed and written all of them. Printed, not asserted.
TEST_F(SyslogRsyslog, TlsThroughput)
{
    const char* env = std::getenv("IDPATH_SYSLOG_BENCH_RECORDS");
    const std::size_t total = env != nullptr ? std::strtoull(env, nullptr, 10) : 20000;
    constexpr std::size_t kBatch = 2000;
    Rsyslogd& rs = start_rsyslogd(true);
    auto sink = make(tls_options());
    ASSERT_TRUE(sink);
    std::vector<Batch> batches;
    std::size_t messages = 0;
    for (std::size_t i = 0; i * kBatch < total; ++i) {
        Batch b;
        for (std::size_t j = 0; j < kBatch; ++j)
            b.records.push_back(query(static_cast<std::uint16_t>(j % 4), i * kBatch + j + 1));
        messages += b.size();
        batches.push_back(std::move(b));
    }
    auto t0 = Clock::now();
    ASSERT_TRUE(sink->deliver(make_batch(0, 1, 1)).ok()); // connect and handshake outside the clock
    const double connect = std::chrono::duration<double>(Clock::now() - t0).count();
    ASSERT_EQ(rs.wait_for(5, 10s).size(), 5u);
    t0 = Clock::now();
    const double cpu0 = thread_cpu_seconds();
    for (const Batch& b : batches) {
        auto r = sink->deliver(b);
        ASSERT_TRUE(r.ok()) << r.error();
    }
    const double sent = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = thread_cpu_seconds() - cpu0;
    const auto deadline = Clock::now() + 120s;
    while (rs.lines().size() < messages + 5 && Clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    const double received = std::chrono::duration<double>(Clock::now() - t0).count();
    ASSERT_EQ(rs.lines().size(), messages + 5);
    std::printf("syslog TLS: connect + handshake + first batch %.1f ms\n", connect * 1e3);
    std::printf("syslog TLS: %zu records: deliver() %.0f records/s (%.3f s, of which %.3f s CPU of this thread: "
                "%.0f records per CPU second); parsed and written by rsyslog %.0f records/s (%.3f s)\n",
                messages, messages / sent, sent, cpu, messages / cpu, messages / received, received);
}

} // namespace
} // namespace idpath::mirror
