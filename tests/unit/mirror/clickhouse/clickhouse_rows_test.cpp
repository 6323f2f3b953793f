// The ClickHouse sink's pure parts: its JSONEachRow rows, the retention calendar, the factory's
// checks. The same rows go into a real server in clickhouse_sink_test.cpp.

#include <gtest/gtest.h>

#include <cstring>

#include "controlplane/mirror/clickhouse/clickhouse_rows.hpp"
#include "controlplane/mirror/clickhouse/clickhouse_sink.hpp"
#include "controlplane/mirror/clickhouse/retention.hpp"
#include "tests/unit/mirror/sample_records.hpp"

namespace idpath::mirror::clickhouse {
namespace {

using namespace std::chrono;
using querylog::Record;

Record query_record()
{
    Record r = mirror::testing::query_record(3, 7, 1'795'401'663'123'456'789ull, "20.500.123/x");
    r.latency_ns = 4200;
    r.response_code = 100;
    r.request_bytes = 60;
    r.response_bytes = 44;
    mirror::testing::set_ipv4(r.client, 192, 0, 2, 7);
    return r;
}

std::string rows(const Batch& b)
{
    std::string out;
    encode_record_rows(b, Origin{"node-a", "0.1.0"}, out);
    return out;
}

TEST(ClickHouseRows, QueryRowHasEveryColumn)
{
    Batch b;
    b.records.push_back(query_record());
    EXPECT_EQ(rows(b),
              R"({"node_id":"node-a","sw_version":"0.1.0","kind":"query","source":3,"seq":7,)"
              R"("time_ns":1795401663123456789,"replayed":0,"client_ip":"192.0.2.7","client_port":40000,)"
              R"("server_ip":"198.51.100.1","server_port":2641,"family":4,"transport":"udp","opcode":1,)"
              R"("opcode_name":"OC_RESOLUTION","response_code":100,"response_code_name":"RC_HANDLE_NOT_FOUND",)"
              R"("values":0,"request_bytes":60,"response_bytes":44,"datagrams":1,"latency_ns":4200,)"
              R"("action":"allowed","silence":"none","malformed":0,"oversize":0,"multi_datagram_request":0,)"
              R"("handle":"20.500.123/x","handle_length":12,"handle_truncated":0})"
              "\n");
}

TEST(ClickHouseRows, HeartbeatCarriesItsCounters)
{
    Batch b;
    b.replayed = true;
    Record r{};
    r.seq = 10;
    r.time_ns = 5;
    r.source = 1;
    r.kind = querylog::Kind::Heartbeat;
    querylog::set_heartbeat_body(r, {10, 2});
    b.records.push_back(r);
    EXPECT_EQ(rows(b), R"({"node_id":"node-a","sw_version":"0.1.0","kind":"heartbeat","source":1,"seq":10,)"
                       R"("time_ns":5,"replayed":1,"produced":10,"lost":2,"transport":"none","action":"allowed",)"
                       R"("silence":"none"})"
                       "\n");
}

TEST(ClickHouseRows, HandleOctetsKeptExactlyAndEscaped)
{
    Record r = query_record();
    const std::uint8_t handle[] = {'a', '"', '\\', 0x01, '\n', 0xff, 0xc3, 0xa9, '/'};
    r.flags = 0;
    querylog::set_handle(r, handle, sizeof handle);
    Batch b;
    b.records.push_back(r);
    EXPECT_NE(rows(b).find("\"handle\":\"a\\\"\\\\\\u0001\\u000a\xff\xc3\xa9/\""), std::string::npos) << rows(b);
}

TEST(ClickHouseRows, BadFieldsNeverBreakTheRow)
{
    Record r = query_record();
    r.handle_stored = 255; // more than the record holds
    r.transport = static_cast<querylog::Transport>(9);
    r.action = static_cast<querylog::Action>(9);
    r.silence = 200;
    r.opcode = 77777;
    r.family = 6;
    r.flags = querylog::kFlagMalformed | querylog::kFlagHandleTruncated;
    std::memset(r.handle, 'h', sizeof r.handle);
    const std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    std::memcpy(r.client, v6, 16);
    Batch b;
    b.records.push_back(r);
    const std::string row = rows(b);
    EXPECT_NE(row.find("\"handle\":\"" + std::string(querylog::kHandleBytes, 'h') + "\""), std::string::npos);
    EXPECT_NE(row.find("\"client_ip\":\"2001:db8::1\""), std::string::npos);
    EXPECT_NE(row.find("\"transport\":\"unknown\""), std::string::npos);
    EXPECT_NE(row.find("\"action\":\"unknown\""), std::string::npos);
    EXPECT_NE(row.find("\"silence\":\"unknown\""), std::string::npos);
    EXPECT_NE(row.find("\"opcode_name\":\"\""), std::string::npos);
    EXPECT_NE(row.find("\"malformed\":1"), std::string::npos);
    EXPECT_NE(row.find("\"handle_truncated\":1"), std::string::npos);
}

TEST(ClickHouseRows, EventFieldsAsNestedArrays)
{
    Batch b;
    b.events.push_back({3, 9, "table.load", {{"file", "a\"b"}, {"records", "12"}}});
    b.events.push_back({4, 10, "admin", {}});
    std::string out;
    encode_event_rows(b, Origin{"n", "v"}, out);
    EXPECT_EQ(out, R"({"node_id":"n","sw_version":"v","seq":3,"time_ns":9,"replayed":0,"category":"table.load",)"
                   R"("fields.key":["file","records"],"fields.value":["a\"b","12"]})"
                   "\n"
                   R"({"node_id":"n","sw_version":"v","seq":4,"time_ns":10,"replayed":0,"category":"admin",)"
                   R"("fields.key":[],"fields.value":[]})"
                   "\n");
}

TEST(ClickHouseRetention, PartitionNames)
{
    EXPECT_EQ(partition_month("202605"), year{2026} / May);
    EXPECT_FALSE(partition_month("202613"));
    EXPECT_FALSE(partition_month("20260"));
    EXPECT_FALSE(partition_month("2026051"));
    EXPECT_FALSE(partition_month("tuple()"));
    EXPECT_FALSE(partition_month(""));
}

TEST(ClickHouseRetention, OnlyWholeMonthsPastTheRetention)
{
    const sys_days today = year{2026} / November / 23; // cutoff: 183 days earlier, 2026-05-24
    EXPECT_TRUE(month_expired(year{2026} / April, today, 183));
    EXPECT_FALSE(month_expired(year{2026} / May, today, 183)); // May 24..31 still kept
    EXPECT_FALSE(month_expired(year{2026} / November, today, 183));
    EXPECT_TRUE(month_expired(year{2025} / December, today, 183));
    // The cutoff on the 1st: the month before is entirely older.
    const sys_days first = sys_days{year{2026} / June / 1} + days{183};
    EXPECT_TRUE(month_expired(year{2026} / May, first, 183));
    EXPECT_FALSE(month_expired(year{2026} / May, first - days{1}, 183));
    EXPECT_FALSE(month_expired(year{2000} / January, today, 0)); // 0: keep forever
}

TEST(ClickHouseSinkOptions, FactoryRefusesWhatWouldBreakSql)
{
    const Origin origin{"n", "v"};
    ClickHouseSinkOptions o;
    EXPECT_TRUE(make_clickhouse_sink(o, origin));
    o.table = "records; DROP TABLE x";
    EXPECT_FALSE(make_clickhouse_sink(o, origin));
    o = {};
    o.database = "1db";
    EXPECT_FALSE(make_clickhouse_sink(o, origin));
    o = {};
    o.url = "ftp://host/";
    EXPECT_FALSE(make_clickhouse_sink(o, origin));
    o = {};
    o.timeout_ms = 0;
    EXPECT_FALSE(make_clickhouse_sink(o, origin));
}

} // namespace
} // namespace idpath::mirror::clickhouse
