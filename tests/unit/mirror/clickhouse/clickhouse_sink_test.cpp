// The ClickHouse sink against a real clickhouse-server (Debian 12's 18.16), started per test by
// ClickHouseServer in a temp directory: the shipped schema is applied, batches go through the
// sink, and the server's own counts must match exactly. Skipped only when ClickHouse is absent.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include "controlplane/mirror/clickhouse/clickhouse_rows.hpp"
#include "controlplane/mirror/clickhouse/clickhouse_sink.hpp"
#include "controlplane/mirror/clickhouse/http_client.hpp"
#include "tests/unit/mirror/clickhouse/clickhouse_server.hpp"
#include "tests/unit/mirror/sample_records.hpp"

namespace idpath::mirror {
namespace {

using namespace std::chrono;
using querylog::Record;
using testing::ClickHouseServer;

const std::filesystem::path kSqlDir = IDPATH_CLICKHOUSE_SQL_DIR;

std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count());
}

/// Query records with a given client, response code and handle; seq and time set by the caller.
Record query(std::uint16_t source, std::uint64_t seq, std::uint64_t time_ns, std::uint32_t rc,
             std::uint8_t client_last, std::string_view handle)
{
    Record r = testing::query_record(source, seq, time_ns, handle);
    r.response_code = rc;
    r.request_bytes = 50;
    r.response_bytes = rc == 1 ? 120 : 40;
    r.values = rc == 1 ? 2 : 0;
    r.latency_ns = 3000;
    r.client_port = 50000;
    testing::set_ipv4(r.client, 10, 0, 0, client_last);
    testing::set_ipv4(r.server, 10, 9, 9, 9);
    return r;
}

Record heartbeat(std::uint16_t source, std::uint64_t seq, std::uint64_t time_ns, std::uint64_t lost)
{
    return testing::heartbeat_record(source, seq, time_ns, seq, lost);
}

/// A batch of `n` recent queries from source 0 (for tests that only count).
Batch simple_batch(std::uint64_t id, std::uint64_t first_seq, std::size_t n, std::uint64_t time_ns)
{
    Batch b;
    b.id = id;
    for (std::size_t i = 0; i < n; ++i)
        b.records.push_back(query(0, first_seq + i, time_ns + i, 1, 1, "20.500.1/x"));
    return b;
}

class ClickHouseSinkTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (ClickHouseServer::binary().empty())
            GTEST_SKIP() << "clickhouse-server is not installed (apt install clickhouse-server): the "
                            "ClickHouse sink is tested against a real server only";
        server_ = std::make_unique<ClickHouseServer>();
        const std::string error = server_->start();
        ASSERT_EQ(error, "");
        auto http = clickhouse::HttpClient::make({server_->url(), "", "", 30000});
        ASSERT_TRUE(http) << http.error();
        http_ = std::move(*http);
        for (const std::string& statement : testing::sql_statements(testing::read_text(kSqlDir / "idpath_log.sql"))) {
            auto r = http_->post({}, statement);
            ASSERT_TRUE(r) << r.error() << "\n" << statement;
        }
    }

    /// Our keep-alive connection closed first: a server stopping gracefully waits for it.
    void TearDown() override
    {
        http_.reset();
        server_.reset();
    }

    /// The server's TabSeparated answer to `sql` (fails the test on an error).
    std::string sql(const std::string& statement)
    {
        auto r = http_->post({}, statement);
        EXPECT_TRUE(r) << r.error() << "\n" << statement;
        return r ? *r : std::string{};
    }

    std::uint64_t count(const std::string& statement) { return std::stoull("0" + sql(statement)); }

    std::unique_ptr<Sink> sink(ClickHouseSinkOptions o = {})
    {
        o.url = server_->url();
        auto s = make_clickhouse_sink(o, origin_);
        EXPECT_TRUE(s) << s.error();
        return s ? std::move(*s) : nullptr;
    }

    Origin origin_{"node-1", "0.1.0-test"};
    std::unique_ptr<ClickHouseServer> server_;
    std::unique_ptr<clickhouse::HttpClient> http_;
};

TEST_F(ClickHouseSinkTest, IngestsEveryRecordAndTheExampleQueriesAnswer)
{
    auto s = sink();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind(), "clickhouse");

    constexpr std::size_t kBatches = 20;
    constexpr std::size_t kPerBatch = 5000;
    constexpr std::uint16_t kSources = 4;
    constexpr std::uint64_t kRingLost = 10;    // source 3: seqs lost in its ring, told by heartbeats
    constexpr std::uint64_t kTransitLost = 15; // source 3: seqs that never arrive otherwise
    const std::uint64_t start = now_ns() - 50ull * 60 * 1'000'000'000; // 50 minutes ago
    const std::uint64_t step = 50ull * 60 * 1'000'000'000 / (kBatches * kPerBatch);

    std::uint64_t seq[kSources] = {};
    std::uint64_t lost[kSources] = {};
    std::map<std::uint32_t, std::uint64_t> per_rc;
    std::map<std::string, std::uint64_t> per_client;
    std::uint64_t queries = 0;
    std::uint64_t heartbeats = 0;
    std::vector<Batch> batches;
    std::size_t i = 0;
    for (std::size_t b = 0; b < kBatches; ++b) {
        Batch batch;
        batch.id = b + 1;
        for (std::size_t k = 0; k < kPerBatch; ++k, ++i) {
            const auto source = static_cast<std::uint16_t>(i % kSources);
            if (source == 3 && b == kBatches / 2 && k == 3) {
                seq[3] += kRingLost + kTransitLost; // a hole in source 3's sequence
                lost[3] += kRingLost;
            }
            const std::uint32_t rc = i % 10 == 0 ? 100 : i % 50 == 1 ? 2 : 1;
            // Client 10.0.0.1 sends a third of all queries: the top client.
            const auto client = static_cast<std::uint8_t>(i % 3 == 0 ? 1 : 2 + i % 97);
            const std::string handle = "20.500." + std::to_string(i % 7) + "/item-" + std::to_string(i);
            batch.records.push_back(query(source, ++seq[source], start + i * step, rc, client, handle));
            ++per_rc[rc];
            ++per_client["10.0.0." + std::to_string(client)];
            ++queries;
        }
        for (std::uint16_t src = 0; src < kSources; ++src) {
            batch.records.push_back(heartbeat(src, ++seq[src], start + i * step, lost[src]));
            ++heartbeats;
        }
        if (b % 7 == 0)
            batch.events.push_back({b + 1, start + i * step, "table.update",
                                    {{"file", "updates-" + std::to_string(b) + ".jsonl"}, {"records", "12"}}});
        batches.push_back(std::move(batch));
    }

    const auto t0 = steady_clock::now();
    for (const Batch& b : batches) {
        ASSERT_TRUE(s->ready());
        auto r = s->deliver(b);
        ASSERT_TRUE(r) << r.error();
    }
    const double secs = duration<double>(steady_clock::now() - t0).count();
    const auto e0 = steady_clock::now();
    std::size_t bytes = 0;
    for (const Batch& b : batches) {
        std::string rows;
        clickhouse::encode_record_rows(b, origin_, rows);
        bytes += rows.size();
    }
    const double encode_secs = duration<double>(steady_clock::now() - e0).count();
    std::printf("[ perf     ] %zu rows (%zu MB JSON) in %zu inserts over loopback: %.3f s, %.0f rows/s; "
                "encoding alone %.0f rows/s\n",
                static_cast<std::size_t>(queries + heartbeats), bytes >> 20, kBatches, secs,
                (queries + heartbeats) / secs, (queries + heartbeats) / encode_secs);

    EXPECT_EQ(count("SELECT count() FROM idpath.records WHERE kind = 'query'"), queries);
    EXPECT_EQ(count("SELECT count() FROM idpath.records WHERE kind = 'heartbeat'"), heartbeats);
    EXPECT_EQ(count("SELECT count() FROM idpath.records WHERE node_id != 'node-1' OR sw_version != '0.1.0-test'"), 0u);
    EXPECT_EQ(count("SELECT count() FROM idpath.records WHERE replayed"), 0u);
    std::ostringstream want_rc;
    for (const auto& [rc, n] : per_rc)
        want_rc << rc << '\t' << n << '\n';
    EXPECT_EQ(sql("SELECT response_code, count() FROM idpath.records WHERE kind = 'query' "
                  "GROUP BY response_code ORDER BY response_code"),
              want_rc.str());
    EXPECT_EQ(sql("SELECT response_code_name FROM idpath.records WHERE response_code = 100 LIMIT 1"),
              "RC_HANDLE_NOT_FOUND\n");
    std::ostringstream want_hb;
    for (std::uint16_t src = 0; src < kSources; ++src)
        want_hb << src << '\t' << seq[src] << '\t' << lost[src] << '\n';
    EXPECT_EQ(sql("SELECT source, max(produced), max(lost) FROM idpath.records WHERE kind = 'heartbeat' "
                  "GROUP BY source ORDER BY source"),
              want_hb.str());
    EXPECT_EQ(sql("SELECT count(), sum(toUInt64(fields.value[indexOf(fields.key, 'records')])) FROM idpath.events "
                  "WHERE category = 'table.update'"),
              "3\t36\n");
    EXPECT_EQ(sql("SELECT prefix, handle, client_ip, toUInt64(time) = intDiv(time_ns, 1000000000), date = toDate(time) "
                  "FROM idpath.records WHERE kind = 'query' AND seq = 2 AND source = 0"),
              "20.500.4\t20.500.4/item-4\t10.0.0.6\t1\t1\n");

    // Every example query of configs/clickhouse/queries.sql runs; the named ones answer what
    // the data says.
    std::vector<std::string> names;
    const auto statements = testing::sql_statements(testing::read_text(kSqlDir / "queries.sql"), &names);
    ASSERT_GE(statements.size(), 8u);
    std::map<std::string, std::string> answers;
    for (std::size_t q = 0; q < statements.size(); ++q) {
        auto r = http_->post({}, statements[q]);
        ASSERT_TRUE(r) << names[q] << ": " << r.error();
        answers[names[q]] = *r;
    }
    EXPECT_TRUE(answers["top_clients"].starts_with("10.0.0.1\t" + std::to_string(per_client["10.0.0.1"]) + "\t"))
        << answers["top_clients"].substr(0, 200);
    EXPECT_TRUE(answers["top_networks"].starts_with("10.0.0.xxx\t" + std::to_string(queries) + "\t"))
        << answers["top_networks"];
    EXPECT_EQ(std::count(answers["prefix_volume"].begin(), answers["prefix_volume"].end(), '\n'), 7);
    EXPECT_EQ(std::count(answers["response_codes"].begin(), answers["response_codes"].end(), '\n'), 3);
    EXPECT_FALSE(answers["error_rate_over_time"].empty());
    EXPECT_FALSE(answers["recent_events"].empty());
    // sequence_gaps: node, source, first, last, expected, received, missing, ring_lost, ...
    std::istringstream gaps(answers["sequence_gaps"]);
    std::string line;
    std::map<int, std::pair<std::uint64_t, std::uint64_t>> missing; // source -> missing, ring_lost
    while (std::getline(gaps, line)) {
        std::istringstream f(line);
        std::string node, first, last, expected, received;
        int source = 0;
        std::uint64_t miss = 0, ring = 0;
        f >> node >> source >> first >> last >> expected >> received >> miss >> ring;
        missing[source] = {miss, ring};
    }
    ASSERT_EQ(missing.size(), kSources) << answers["sequence_gaps"];
    EXPECT_EQ(missing[3], std::make_pair(kRingLost + kTransitLost, kRingLost));
    for (int src = 0; src < 3; ++src)
        EXPECT_EQ(missing[src], std::make_pair(std::uint64_t{0}, std::uint64_t{0})) << src;
}

TEST_F(ClickHouseSinkTest, HandleOctetsAndAddressesRoundTrip)
{
    auto s = sink();
    ASSERT_TRUE(s);
    Batch b;
    const std::string odd = std::string("0.NA/\"q\\\x01\n") + "\xff\xfe" + "\xc3\xa9";
    b.records.push_back(query(0, 1, now_ns(), 1, 5, odd));
    Record v6 = query(0, 2, now_ns(), 1, 5, "x/y");
    v6.family = 6;
    const std::uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
    std::memcpy(v6.client, a, 16);
    b.records.push_back(v6);
    Record odd_fields = query(0, 3, now_ns(), 1, 5, "x/z");
    odd_fields.transport = static_cast<querylog::Transport>(9); // newer than this sink
    odd_fields.action = static_cast<querylog::Action>(9);
    odd_fields.silence = 200;
    odd_fields.handle_stored = 255; // more than a record holds
    b.records.push_back(odd_fields);
    auto r = s->deliver(b);
    ASSERT_TRUE(r) << r.error();
    std::string hex;
    for (unsigned char c : odd) {
        char h[3];
        std::snprintf(h, sizeof h, "%02X", c);
        hex += h;
    }
    EXPECT_EQ(sql("SELECT hex(handle), prefix FROM idpath.records WHERE seq = 1"), hex + "\t0.NA\n");
    EXPECT_EQ(sql("SELECT client_ip, family FROM idpath.records WHERE seq = 2"), "2001:db8:1::42\t6\n");
    EXPECT_EQ(sql("SELECT transport, action, silence, length(handle) FROM idpath.records WHERE seq = 3"),
              "unknown\tunknown\tunknown\t168\n");
}

TEST_F(ClickHouseSinkTest, IdleKeepAliveConnectionIsReopened)
{
    auto s = sink();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->deliver(simple_batch(1, 1, 10, now_ns())));
    // The server closes idle keep-alive connections after 3 s (its keep_alive_timeout); the
    // next batch must go on a fresh one, not fail on the dead one.
    std::this_thread::sleep_for(milliseconds(3500));
    auto r = s->deliver(simple_batch(2, 11, 10, now_ns()));
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(count("SELECT count() FROM idpath.records"), 20u);
}

TEST_F(ClickHouseSinkTest, ReplayedCopiesCollapse)
{
    auto s = sink();
    ASSERT_TRUE(s);
    Batch b = simple_batch(1, 1, 1000, now_ns());
    ASSERT_TRUE(s->deliver(b));
    b.replayed = true; // the answer was lost after the commit: the spool sends it again
    ASSERT_TRUE(s->deliver(b));
    EXPECT_EQ(count("SELECT count() FROM idpath.records"), 2000u);
    EXPECT_EQ(count("SELECT count() FROM idpath.records FINAL"), 1000u);
    EXPECT_EQ(count("SELECT uniqExact(node_id, source, seq) FROM idpath.records"), 1000u);
    sql("OPTIMIZE TABLE idpath.records FINAL");
    EXPECT_EQ(count("SELECT count() FROM idpath.records"), 1000u);
}

TEST_F(ClickHouseSinkTest, RetentionDropsOnlyWholeExpiredMonths)
{
    auto s = sink(); // retention_days 183
    ASSERT_TRUE(s);
    const std::uint64_t now = now_ns();
    const std::uint64_t day = 86400ull * 1'000'000'000;
    Batch b;
    std::uint64_t seq = 0;
    for (int i = 0; i < 3; ++i)
        b.records.push_back(query(0, ++seq, now - 243 * day + i, 1, 1, "old/8-months"));
    for (int i = 0; i < 2; ++i)
        b.records.push_back(query(0, ++seq, now - 300 * day + i, 1, 1, "old/10-months"));
    for (int i = 0; i < 4; ++i)
        b.records.push_back(query(0, ++seq, now - 60 * day + i, 1, 1, "kept/2-months"));
    for (int i = 0; i < 5; ++i)
        b.records.push_back(query(0, ++seq, now + i, 1, 1, "kept/now"));
    b.events.push_back({1, now - 243 * day, "admin", {}});
    b.events.push_back({2, now, "admin", {}});
    ASSERT_TRUE(s->deliver(b));
    const std::string parts = "SELECT count(DISTINCT partition) FROM system.parts WHERE active AND database = 'idpath' ";
    ASSERT_EQ(count(parts + "AND table = 'records'"), 4u);
    ASSERT_EQ(count(parts + "AND table = 'events'"), 2u);

    s->tick(); // the first tick runs the retention job
    EXPECT_EQ(count(parts + "AND table = 'records'"), 2u);
    EXPECT_EQ(count(parts + "AND table = 'events'"), 1u);
    EXPECT_EQ(sql("SELECT prefix, count() FROM idpath.records GROUP BY prefix ORDER BY prefix"), "kept\t9\n");
    EXPECT_EQ(count("SELECT count() FROM idpath.events"), 1u);

    auto* ch = dynamic_cast<ClickHouseSink*>(s.get());
    ASSERT_NE(ch, nullptr);
    auto again = ch->expire(floor<days>(system_clock::now()));
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ(*again, 0u);
    // 183 days after this month's first day, the 2-months-old rows' month is past; this one is not.
    const year_month_day today{floor<days>(system_clock::now())};
    auto later = ch->expire(sys_days{today.year() / today.month() / 1} + days{183});
    ASSERT_TRUE(later) << later.error();
    EXPECT_EQ(*later, 1u);
    EXPECT_EQ(count("SELECT count() FROM idpath.records WHERE prefix = 'kept'"), 5u);
}

TEST_F(ClickHouseSinkTest, OutageFailsThenRecoversWithNothingLost)
{
    ClickHouseSinkOptions o;
    o.timeout_ms = 2000;
    o.backoff_min_ms = 100;
    o.backoff_max_ms = 400;
    auto s = sink(o);
    ASSERT_TRUE(s);
    const std::uint64_t t = now_ns();
    Batch b1 = simple_batch(1, 1, 500, t);
    Batch b2 = simple_batch(2, 501, 500, t + 1000);
    Batch b3 = simple_batch(3, 1001, 500, t + 2000);
    Batch b4 = simple_batch(4, 1501, 500, t + 3000);
    ASSERT_TRUE(s->deliver(b1));

    server_->stop(milliseconds(0)); // killed: an outage, not a shutdown
    auto r = s->deliver(b2);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find(server_->url()), std::string::npos) << r.error();
    EXPECT_FALSE(s->ready()); // backoff
    const auto deadline = steady_clock::now() + seconds(5);
    while (!s->ready() && steady_clock::now() < deadline)
        std::this_thread::sleep_for(milliseconds(10));
    ASSERT_TRUE(s->ready());
    EXPECT_FALSE(s->deliver(b3));
    EXPECT_FALSE(s->ready());

    ASSERT_EQ(server_->start(), "");
    while (!s->ready() && steady_clock::now() < deadline + seconds(5))
        std::this_thread::sleep_for(milliseconds(10));
    ASSERT_TRUE(s->ready());
    // What the runner does: the spooled batches replay in order, then live ones go on.
    b2.replayed = b3.replayed = true;
    ASSERT_TRUE(s->deliver(b2));
    ASSERT_TRUE(s->deliver(b3));
    ASSERT_TRUE(s->deliver(b4));
    EXPECT_TRUE(s->ready());
    EXPECT_EQ(count("SELECT count() FROM idpath.records"), 2000u);
    EXPECT_EQ(count("SELECT uniqExact(seq) FROM idpath.records"), 2000u);
    EXPECT_EQ(count("SELECT count() FROM idpath.records WHERE replayed"), 1000u);
}

TEST_F(ClickHouseSinkTest, ServerErrorsComeBackWithClickHouseMessage)
{
    ClickHouseSinkOptions o;
    o.table = "nosuch";
    auto missing = sink(o);
    ASSERT_TRUE(missing);
    auto r = missing->deliver(simple_batch(1, 1, 3, now_ns()));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("HTTP 404"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("idpath.nosuch doesn't exist"), std::string::npos) << r.error();

    o = {};
    o.user = "idpath";
    o.password = "wrong";
    auto denied = sink(o);
    ASSERT_TRUE(denied);
    r = denied->deliver(simple_batch(1, 1, 3, now_ns()));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("password"), std::string::npos) << r.error();

    o.password = "secret";
    auto allowed = sink(o);
    ASSERT_TRUE(allowed);
    r = allowed->deliver(simple_batch(1, 1, 3, now_ns()));
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(count("SELECT count() FROM idpath.records"), 3u);
}

TEST(ClickHouseSinkTimeout, SilentServerFailsWithinTheTimeout)
{
    // A listening socket nobody accepts on: the connection completes, no answer ever comes.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ClickHouseSinkOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/";
    o.timeout_ms = 300;
    auto s = make_clickhouse_sink(o, Origin{"n", "v"});
    ASSERT_TRUE(s);
    const auto t0 = steady_clock::now();
    auto r = (*s)->deliver(simple_batch(1, 1, 10, now_ns()));
    const auto took = steady_clock::now() - t0;
    ::close(fd);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("timed out"), std::string::npos) << r.error();
    EXPECT_GE(took, milliseconds(250));
    EXPECT_LT(took, seconds(3));
    EXPECT_FALSE((*s)->ready());
}

} // namespace
} // namespace idpath::mirror
