#include "controlplane/config/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controlplane/config/schema.hpp"
#include "tests/unit/controlplane/test_support.hpp"

namespace idpath::config {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
protected:
    Result<Config, std::vector<ConfigError>> parse(std::string_view yaml) const
    {
        return parse_config(yaml, dir_ / "idpathd.yaml");
    }

    Config parse_ok(std::string_view yaml) const
    {
        auto r = parse(yaml);
        if (!r) {
            std::string all;
            for (const auto& e : r.error())
                all += e.to_string() + "\n";
            ADD_FAILURE() << "unexpected errors:\n" << all;
            return Config{};
        }
        return std::move(r).value();
    }

    std::vector<ConfigError> parse_errors(std::string_view yaml) const
    {
        auto r = parse(yaml);
        if (r) {
            ADD_FAILURE() << "parsed, but errors were expected for:\n" << yaml;
            return {};
        }
        return r.error();
    }

    /// Exactly one error, at `key` on `line`, whose reason contains `reason`.
    void expect_one_error(std::string_view yaml, std::string_view key, int line,
                          std::string_view reason) const
    {
        const auto errors = parse_errors(yaml);
        ASSERT_EQ(errors.size(), 1u)
            << yaml << "\nfirst: " << (errors.empty() ? "" : errors[0].to_string());
        EXPECT_EQ(errors[0].key, key) << errors[0].to_string();
        EXPECT_EQ(errors[0].line, line) << errors[0].to_string();
        EXPECT_THAT(errors[0].reason, HasSubstr(std::string(reason))) << errors[0].to_string();
        EXPECT_EQ(errors[0].file, (dir_ / "idpathd.yaml").string());
    }

    test::TempDir dir_;
};

constexpr std::string_view kNode = "node:\n  id: n1\n";

std::vector<std::string> strings(const std::vector<socket::Endpoint>& endpoints)
{
    std::vector<std::string> out;
    for (const auto& e : endpoints)
        out.push_back(e.to_string());
    return out;
}

// ---- defaults and a full file -----------------------------------------------------------------

TEST_F(ConfigTest, MinimalConfigTakesEveryDefault)
{
    const Config c = parse_ok(kNode);
    EXPECT_EQ(c.source, dir_ / "idpathd.yaml");
    EXPECT_EQ(c.node.id, "n1");
    EXPECT_EQ(c.node.role, "authoritative");
    EXPECT_EQ(strings(c.service.udp), (std::vector<std::string>{"0.0.0.0:2641", "[::]:2641"}));
    EXPECT_EQ(strings(c.service.tcp), (std::vector<std::string>{"0.0.0.0:2641", "[::]:2641"}));
    EXPECT_EQ(c.service.udp_threads, 1u);
    EXPECT_EQ(c.service.max_udp_datagrams, 8u);
    EXPECT_EQ(c.service.expiration_seconds, 43200u);
    EXPECT_EQ(c.service.tcp_max_connections, 1024u);
    EXPECT_EQ(c.service.tcp_idle_timeout_ms, 30000u);
    EXPECT_EQ(c.service.tcp_punt_timeout_ms, 10000u);
    EXPECT_FALSE(c.site.configured);
    EXPECT_TRUE(c.data.homed_prefixes.empty());
    EXPECT_TRUE(c.data.identifier_files.empty());
    EXPECT_EQ(c.admin.socket, "/run/idpath/idpathd.sock");
}

TEST_F(ConfigTest, EmptySectionsKeepDefaults)
{
    const Config c = parse_ok("node:\n  id: n1\nservice:\ndata:\nadmin:\n");
    EXPECT_EQ(c.service.udp.size(), 2u);
    EXPECT_EQ(c.admin.socket, "/run/idpath/idpathd.sock");
}

TEST_F(ConfigTest, FullConfigIsTyped)
{
    dir_.write("ids/a.jsonl", "");
    dir_.write("b.jsonl", "");
    const Config c = parse_ok(R"(
node: {id: edge-7.cd_1, role: authoritative}
service:
  udp: ["192.0.2.1:2641", "[2001:db8::1]:3641", "10.0.0.1"]
  tcp: ["[::]"]
  udp_threads: 64
  max_udp_datagrams: 533
  expiration_seconds: 60
  tcp_max_connections: 1000000
  tcp_idle_timeout_ms: 100
  tcp_punt_timeout_ms: 250
site:
  serial: 7
  primary: false
  multi_primary: true
  hash: prefix
  attributes: {desc: "node 7"}
  servers:
    - id: 3
      address: 2001:db8::10
      public_key_hex: "00ff"
      interfaces:
        - {type: out-of-service, protocol: https, port: 443}
data:
  homed_prefixes: [88.100.1, "86.5"]
  identifier_files: [ids/a.jsonl, b.jsonl]
admin:
  socket: /tmp/idpath.sock
)");
    EXPECT_EQ(c.node.id, "edge-7.cd_1");
    EXPECT_EQ(strings(c.service.udp),
              (std::vector<std::string>{"192.0.2.1:2641", "[2001:db8::1]:3641", "10.0.0.1:2641"}));
    EXPECT_EQ(strings(c.service.tcp), (std::vector<std::string>{"[::]:2641"}));
    EXPECT_EQ(c.service.udp_threads, 64u);
    EXPECT_EQ(c.service.max_udp_datagrams, 533u);
    EXPECT_EQ(c.service.expiration_seconds, 60u);
    EXPECT_EQ(c.service.tcp_max_connections, 1000000u);
    EXPECT_EQ(c.service.tcp_idle_timeout_ms, 100u);
    EXPECT_EQ(c.service.tcp_punt_timeout_ms, 250u);
    ASSERT_TRUE(c.site.configured);
    EXPECT_EQ(c.site.info.serial, 7);
    EXPECT_EQ(c.site.info.primary_mask, wire::site::kMultiPrimaryMask);
    EXPECT_FALSE(c.site.info.is_primary());
    EXPECT_EQ(c.site.info.hash_option, wire::site::kHashByPrefix);
    ASSERT_EQ(c.site.info.attributes.size(), 1u);
    EXPECT_EQ(c.site.info.attributes[0], (std::pair<std::string, std::string>{"desc", "node 7"}));
    ASSERT_EQ(c.site.info.servers.size(), 1u);
    const auto& s = c.site.info.servers[0];
    EXPECT_EQ(s.server_id, 3u);
    EXPECT_EQ(s.address[0], 0x20);
    EXPECT_EQ(s.address[15], 0x10);
    EXPECT_EQ(s.public_key, (std::vector<std::uint8_t>{0x00, 0xff}));
    ASSERT_EQ(s.interfaces.size(), 1u);
    EXPECT_EQ(s.interfaces[0].type, wire::site::kInterfaceOutOfService);
    EXPECT_EQ(s.interfaces[0].protocol, wire::site::kProtocolHttps);
    EXPECT_EQ(s.interfaces[0].port, 443u);
    EXPECT_EQ(c.data.homed_prefixes, (std::vector<std::string>{"88.100.1", "86.5"}));
    EXPECT_EQ(c.data.identifier_files,
              (std::vector<std::filesystem::path>{dir_ / "ids/a.jsonl", dir_ / "b.jsonl"}));
    EXPECT_EQ(c.admin.socket, "/tmp/idpath.sock");
}

// ---- integer keys: every bound, from the schema and from a fixed list ---------------------------

struct Bounds {
    std::string key;
    std::uint64_t min, max;
};

TEST_F(ConfigTest, IntegerBoundsAreTheDocumentedOnes)
{
    const std::vector<Bounds> expected{
        {"service.udp_threads", 1, 64},
        {"service.max_udp_datagrams", 1, 533},
        {"service.expiration_seconds", 60, 604800},
        {"service.tcp_max_connections", 1, 1000000},
        {"service.tcp_idle_timeout_ms", 100, 3600000},
        {"service.tcp_punt_timeout_ms", 100, 600000},
        {"data.snapshot_interval_seconds", 0, 604800},
        {"data.journal_segment_mb", 0, 65536},
        {"data.journal_retain_days", 0, 36500},
        {"dataplane.memory_mb", 64, 1048576},
        {"dataplane.rx_ring", 64, 16384},
        {"dataplane.tx_ring", 64, 16384},
        {"dataplane.log_level", 1, 8},
        {"dataplane.idle_sleep_us", 0, 100000},
        {"replication.interval_seconds", 1, 86400},
        {"replication.num_servers", 1, 65536},
        {"replication.server_num", 0, 65535},
        {"replication.hash_type", 0, 2},
        {"replication.timeout_ms", 100, 600000},
        {"replication.backoff_min_ms", 10, 3600000},
        {"replication.backoff_max_ms", 10, 86400000},
        {"replication.serve.max_connections", 1, 4096},
        {"recursion.threads", 1, 64},
        {"recursion.udp_timeout_ms", 10, 60000},
        {"recursion.udp_tries", 0, 10},
        {"recursion.tcp_timeout_ms", 10, 600000},
        {"recursion.max_hops", 1, 40},
        {"recursion.max_ttl", 1, 172800},
        {"recursion.negative_ttl", 0, 86400},
        {"recursion.cache_entries", 1, 100000000},
        {"recursion.ring_entries", 64, 1048576},
        {"mirror.ring_records", 1024, 16777216},
        {"mirror.heartbeat_seconds", 1, 3600},
        {"mirror.batch_records", 1, 65536},
        {"mirror.batch_ms", 1, 60000},
        {"mirror.spool.max_mb", 0, 16777216},
        {"mirror.file.rotate_mb", 0, 65536},
        {"mirror.file.rotate_seconds", 0, 604800},
        {"mirror.file.retention_days", 0, 36500},
        {"mirror.file.zstd_level", 0, 19},
        {"mirror.clickhouse.retention_days", 0, 36500},
        {"mirror.probe.sample", 1, 1000000000},
        {"mirror.probe.snap_bytes", 64, 2032},
        {"mirror.probe.rotate_mb", 0, 65536},
        {"mirror.probe.rotate_seconds", 0, 604800},
        {"mirror.probe.retention_days", 0, 36500},
        {"mirror.probe.ring_packets", 64, 1048576},
    };
    std::vector<Bounds> actual;
    for (const KeySpec& k : schema())
        if (k.kind == ValueKind::Unsigned)
            actual.push_back({std::string(k.path), k.min, k.max});
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(actual[i].key, expected[i].key);
        EXPECT_EQ(actual[i].min, expected[i].min) << expected[i].key;
        EXPECT_EQ(actual[i].max, expected[i].max) << expected[i].key;
    }
}

/// A config setting one key of any section: "dataplane.rx_ring" → "dataplane:\n  rx_ring: v",
/// "mirror.spool.max_mb" → "mirror:\n  spool:\n    max_mb: v".
std::string with_key(std::string_view path, std::string_view value)
{
    // recursion.* keys need the recursive role; the blank line keeps key_line() right.
    std::string yaml(path.starts_with("recursion.") ? "node: {id: n1, role: recursive}\n\n" : kNode), indent;
    for (auto dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.')) {
        yaml += indent + std::string(path.substr(0, dot)) + ":\n";
        indent += "  ";
        path.remove_prefix(dot + 1);
    }
    return yaml + indent + std::string(path) + ": " + std::string(value) + "\n";
}

/// The line with_key() puts the key's value on.
int key_line(std::string_view path)
{
    return 3 + static_cast<int>(std::count(path.begin(), path.end(), '.'));
}

std::uint32_t unsigned_value(const Config& c, const KeySpec& k)
{
    Config copy = c;
    return std::get<UnsignedField>(k.field)(copy);
}

/// What a key needs beside it to be valid at all, as lines after with_key()'s (same section).
std::string companion(std::string_view path)
{
    if (path == "data.snapshot_interval_seconds")
        return "  snapshot: /var/lib/idpath/table.snap\n";
    if (path == "data.journal_retain_days")
        return "  snapshot: /var/lib/idpath/table.snap\n  journal: /var/lib/idpath/changes.journal\n";
    if (path == "replication.server_num")
        return "  num_servers: 65536\n";
    if (path.starts_with("recursion."))
        return "  roots: [\"192.0.2.1\"]\n";
    return {};
}

TEST_F(ConfigTest, EveryIntegerKeyAcceptsItsBoundsAndRejectsBeyond)
{
    for (const KeySpec& k : schema()) {
        if (k.kind != ValueKind::Unsigned)
            continue;
        SCOPED_TRACE(std::string(k.path));
        const auto at = [&k](std::string_view value) { return with_key(k.path, value) + companion(k.path); };
        EXPECT_EQ(unsigned_value(parse_ok(at(std::to_string(k.min))), k),
                  k.min);
        EXPECT_EQ(unsigned_value(parse_ok(at(std::to_string(k.max))), k),
                  k.max);
        if (k.min > 0)
            expect_one_error(at(std::to_string(k.min - 1)), k.path, key_line(k.path),
                             "must be an integer");
        expect_one_error(at(std::to_string(k.max + 1)), k.path, key_line(k.path),
                         "must be an integer " + std::to_string(k.min) + ".." +
                             std::to_string(k.max));
        expect_one_error(at("-1"), k.path, key_line(k.path), "got \"-1\"");
        expect_one_error(at("ten"), k.path, key_line(k.path), "got \"ten\"");
        expect_one_error(at("1.5"), k.path, key_line(k.path), "got \"1.5\"");
        expect_one_error(at("\"8\""), k.path, key_line(k.path), "quoted string");
        expect_one_error(at("[1]"), k.path, key_line(k.path), "got a list");
        expect_one_error(at("{a: 1}"), k.path, key_line(k.path), "got a mapping");
        expect_one_error(at("99999999999999999999999"), k.path, key_line(k.path),
                         "must be an integer");
        expect_one_error(at(""), k.path, key_line(k.path), "missing value");
    }
}

TEST_F(ConfigTest, ScheduledSnapshotsNeedASnapshotFile)
{
    expect_one_error(with_key("data.snapshot_interval_seconds", "300"), "data.snapshot_interval_seconds", 3,
                     "need data.snapshot");
    EXPECT_EQ(parse_ok(with_key("data.snapshot_interval_seconds", "300") + companion("data.snapshot_interval_seconds"))
                  .data.snapshot_interval_seconds,
              300u);
}

TEST_F(ConfigTest, JournalSegmentsAndRetention)
{
    const Config defaults = parse_ok(kNode);
    EXPECT_EQ(defaults.data.journal_segment_mb, 256u);
    EXPECT_EQ(defaults.data.journal_retain_days, 0u);
    EXPECT_EQ(parse_ok(with_key("data.journal_segment_mb", "0")).data.journal_segment_mb, 0u);
    // Retention deletes only what the snapshot holds: without a journal and a snapshot it is
    // a mistake, not a setting.
    expect_one_error(with_key("data.journal_retain_days", "183"), "data.journal_retain_days", 3,
                     "needs data.journal and data.snapshot");
    expect_one_error(with_key("data.journal_retain_days", "183") + "  journal: /var/lib/idpath/changes.journal\n",
                     "data.journal_retain_days", 3, "needs data.journal and data.snapshot");
    const Config c =
        parse_ok(with_key("data.journal_retain_days", "183") + companion("data.journal_retain_days"));
    EXPECT_EQ(c.data.journal_retain_days, 183u);
    EXPECT_EQ(c.data.journal, "/var/lib/idpath/changes.journal");
    // Both are read when the journal is opened, at start.
    EXPECT_EQ(restart_required_keys(defaults, parse_ok(with_key("data.journal_segment_mb", "64"))),
              (std::vector<std::string>{"data.journal_segment_mb"}));
}

// ---- strings ----------------------------------------------------------------------------------

TEST_F(ConfigTest, NodeId)
{
    expect_one_error("node:\n  id: \"\"\n", "node.id", 2, "must be 1..64 octets");
    expect_one_error("node:\n  id: " + std::string(65, 'a') + "\n", "node.id", 2,
                     "must be 1..64 octets");
    EXPECT_EQ(parse_ok("node:\n  id: " + std::string(64, 'a') + "\n").node.id,
              std::string(64, 'a'));
    expect_one_error("node:\n  id: \"a b\"\n", "node.id", 2, "letters, digits");
    expect_one_error("node:\n  id: [a]\n", "node.id", 2, "must be a string, got a list");
    expect_one_error("node:\n  id:\n", "node.id", 2, "missing value");
    EXPECT_EQ(parse_ok("node:\n  id: 42\n").node.id, "42"); // a plain scalar is text too
}

TEST_F(ConfigTest, NodeIdIsRequired)
{
    expect_one_error("node:\n  role: authoritative\n", "node.id", 1, "missing required key");
    expect_one_error("service:\n  udp_threads: 2\n", "node.id", 1, "missing required key");
    expect_one_error("", "node.id", 0, "missing required key");
    expect_one_error("# only a comment\n", "node.id", 0, "missing required key");
}

TEST_F(ConfigTest, Role)
{
    EXPECT_EQ(parse_ok("node: {id: a, role: authoritative}\n").node.role, "authoritative");
    expect_one_error("node: {id: a, role: mirror}\n", "replication.upstream", 1, "name the upstream");
    expect_one_error("node: {id: a, role: recursive}\n", "recursion.roots", 1, "name the root servers");
    expect_one_error("node: {id: a, role: primary}\n", "node.role", 1,
                     "must be one of authoritative, mirror, recursive");
}

TEST_F(ConfigTest, RecursionKeysGoWithTheRecursiveRole)
{
    const Config c = parse_ok("node: {id: a, role: recursive}\n"
                              "recursion:\n  roots: [\"192.0.2.1\", \"[2001:db8::1]:3641\"]\n  threads: 4\n");
    EXPECT_EQ(c.node.role, "recursive");
    ASSERT_EQ(c.recursion.roots.size(), 2u);
    EXPECT_EQ(c.recursion.roots[0].to_string(), "192.0.2.1:2641");
    EXPECT_EQ(c.recursion.roots[1].port(), 3641);
    EXPECT_EQ(c.recursion.threads, 4u);
    EXPECT_EQ(c.recursion.max_ttl, 172800u);
    EXPECT_EQ(c.recursion.negative_ttl, 60u);
    EXPECT_EQ(c.recursion.cache_entries, 1000000u);
    EXPECT_EQ(c.recursion.ring_entries, 4096u);
    expect_one_error("node: {id: a, role: recursive}\nrecursion:\n  roots: [\"192.0.2.1\"]\nservice:\n  udp: []\n",
                     "service.udp", 4, "service.udp must not be empty");
    expect_one_error(std::string(kNode) + "recursion:\n  threads: 4\n", "recursion.threads", 3,
                     "node.role is not recursive");
    expect_one_error(std::string(kNode) + "recursion:\n  roots: [\"192.0.2.1\"]\n", "recursion.roots", 3,
                     "node.role is not recursive");
    const auto empty = parse_errors("node: {id: a, role: recursive}\nrecursion:\n  roots: []\n");
    ASSERT_FALSE(empty.empty());
    EXPECT_TRUE(std::any_of(empty.begin(), empty.end(), [](const ConfigError& e) {
        return e.key == "recursion.roots" && e.line == 3 && e.reason.find("1..16 entries") != std::string::npos;
    }));
    // In DPDK mode the workers carry the UDP clients' misses: no kernel UDP socket is needed.
    const Config dpdk = parse_ok("node: {id: a, role: recursive}\nrecursion:\n  roots: [\"192.0.2.1\"]\n"
                                 "service:\n  udp: []\n"
                                 "dataplane:\n  mode: dpdk\n  devices: [\"net_af_packet0,iface=eth0\"]\n");
    EXPECT_EQ(dpdk.dataplane.mode, "dpdk");
    EXPECT_TRUE(dpdk.service.udp.empty());
}

TEST_F(ConfigTest, ReplicationKeysGoTogether)
{
    const std::string mirror = "node: {id: a, role: mirror}\n"
                               "replication:\n  upstream: \"192.0.2.10\"\n  upstream_key: /etc/idpath/up.pem\n"
                               "  admin: \"300:0.NA/88.100.1\"\n  admin_key: /etc/idpath/adm.pem\n"
                               "  state: /var/lib/idpath/repl.json\n";
    const Config c = parse_ok(mirror);
    EXPECT_EQ(c.replication.upstream, "192.0.2.10");
    EXPECT_EQ(c.replication.auth, "HS_PUBKEY");
    expect_one_error(std::string(kNode) + "replication: {upstream: \"192.0.2.10\"}\n", "node.role", 3,
                     "node.role is not mirror");
    std::string no_key = mirror;
    no_key.erase(no_key.find("  admin_key"), no_key.find("  state") - no_key.find("  admin_key"));
    expect_one_error(no_key, "replication.admin_key", 2, "authenticates as a replication admin");
    expect_one_error(std::string(kNode) + "replication: {admin: \"x:0.NA/1\"}\n", "replication.admin", 3,
                     "index is a decimal number");
    expect_one_error(std::string(kNode) + "replication:\n  num_servers: 2\n  server_num: 2\n",
                     "replication.server_num", 3, "must be below replication.num_servers");
    expect_one_error(std::string(kNode) + "replication:\n  serve:\n    listen: [\"127.0.0.1:2642\"]\n"
                                          "    key: /etc/idpath/server.pem\n    admins: [\"300:0.NA/88\"]\n",
                     "data.journal", 4, "needs data.journal");
    expect_one_error(std::string(kNode) + "replication:\n  serve:\n    admins: [\"300:0.NA/88 key.pub\"]\n",
                     "replication.serve.admins[0]", 5, "absolute path");
    // A passphrase goes with the private key file it opens.
    expect_one_error(std::string(kNode) + "replication:\n  admin_key_passphrase_file: /etc/idpath/adm.pass\n",
                     "replication.admin_key_passphrase_file", 3, "set replication.admin_key");
    expect_one_error(std::string(kNode) + "replication:\n  admin_key: /etc/idpath/adm.secret\n  auth: HS_SECKEY\n"
                                          "  admin_key_passphrase_file: /etc/idpath/adm.pass\n",
                     "replication.admin_key_passphrase_file", 3, "HS_PUBKEY");
    expect_one_error(std::string(kNode) + "replication:\n  serve:\n    key_passphrase_file: /etc/idpath/s.pass\n",
                     "replication.serve.key_passphrase_file", 4, "replication.serve.key, which is not set");
    expect_one_error(std::string(kNode) + "replication:\n  admin_key: /a\n  admin_key_passphrase_file: pass\n",
                     "replication.admin_key_passphrase_file", 5, "absolute path");
    const Config with_pass = parse_ok(std::string(kNode) + "replication:\n  admin_key: /etc/idpath/admpriv.bin\n"
                                                           "  admin_key_passphrase_file: /etc/idpath/adm.pass\n");
    EXPECT_EQ(with_pass.replication.admin_key_passphrase_file, "/etc/idpath/adm.pass");
}

TEST_F(ConfigTest, AdminSocket)
{
    EXPECT_EQ(parse_ok(std::string(kNode) + "admin: {socket: /var/run/x.sock}\n").admin.socket,
              "/var/run/x.sock");
    expect_one_error(std::string(kNode) + "admin: {socket: run/x.sock}\n", "admin.socket", 3,
                     "absolute path");
    expect_one_error(std::string(kNode) + "admin: {socket: /" + std::string(107, 'x') + "}\n",
                     "admin.socket", 3, "1..107 octets");
    expect_one_error(std::string(kNode) + "admin: {socket: \"\"}\n", "admin.socket", 3,
                     "1..107 octets");
}

// ---- endpoint lists ---------------------------------------------------------------------------

TEST_F(ConfigTest, Endpoints)
{
    EXPECT_TRUE(parse_ok(std::string(kNode) + "service: {udp: []}\n").service.udp.empty());
    EXPECT_EQ(
        strings(parse_ok(std::string(kNode) + "service: {tcp: [\"127.0.0.1:0\"]}\n").service.tcp),
        (std::vector<std::string>{"127.0.0.1:0"}));
    expect_one_error(std::string(kNode) + "service:\n  udp: [\"192.0.2.1:99999\"]\n",
                     "service.udp[0]", 4, "is not an endpoint");
    expect_one_error(std::string(kNode) + "service:\n  udp:\n    - 127.0.0.1\n    - host.example\n",
                     "service.udp[1]", 6, "is not an endpoint");
    expect_one_error(std::string(kNode) + "service:\n  udp: [\"1.2.3.4\", \"1.2.3.4:2641\"]\n",
                     "service.udp[1]", 4, "listed twice");
    expect_one_error(std::string(kNode) + "service:\n  tcp: 0.0.0.0\n", "service.tcp", 4,
                     "must be a list");
    expect_one_error(std::string(kNode) + "service:\n  tcp:\n", "service.tcp", 4, "missing value");
    expect_one_error(std::string(kNode) + "service:\n  tcp: [[1]]\n", "service.tcp[0]", 4,
                     "must be a string");
    expect_one_error(std::string(kNode) + "service:\n  tcp: [\"1.2.3.4 \"]\n", "service.tcp[0]", 4,
                     "printable");
    std::string many = std::string(kNode) + "service:\n  udp: [";
    for (int i = 0; i < 65; ++i)
        many += (i ? ", " : "") + std::string("\"10.0.0.") + std::to_string(i + 1) + "\"";
    expect_one_error(many + "]\n", "service.udp", 4, "must have 0..64 entries, got 65");
}

TEST_F(ConfigTest, SomethingMustBeServed)
{
    expect_one_error(std::string(kNode) + "service:\n  udp: []\n  tcp: []\n", "service", 3,
                     "both empty");
}

// ---- data -------------------------------------------------------------------------------------

TEST_F(ConfigTest, HomedPrefixes)
{
    EXPECT_EQ(parse_ok(std::string(kNode) + "data: {homed_prefixes: [88.100.1, 0.NA, \"86\"]}\n")
                  .data.homed_prefixes,
              (std::vector<std::string>{"88.100.1", "0.NA", "86"}));
    expect_one_error(std::string(kNode) + "data:\n  homed_prefixes: [\"88.100.1/x\"]\n",
                     "data.homed_prefixes[0]", 4, "no '/'");
    expect_one_error(std::string(kNode) + "data:\n  homed_prefixes: [\"\"]\n",
                     "data.homed_prefixes[0]", 4, "must not be empty");
    expect_one_error(std::string(kNode) + "data:\n  homed_prefixes: [\"88 100\"]\n",
                     "data.homed_prefixes[0]", 4, "printable ASCII");
    expect_one_error(std::string(kNode) + "data:\n  homed_prefixes: [\"88.\\u00e9\"]\n",
                     "data.homed_prefixes[0]", 4, "printable ASCII");
    expect_one_error(std::string(kNode) + "data:\n  homed_prefixes: [88.100.a, 88.100.A]\n",
                     "data.homed_prefixes[1]", 4, "listed twice");
    expect_one_error(std::string(kNode) + "data:\n  homed_prefixes: 88.100.1\n",
                     "data.homed_prefixes", 4, "must be a list");
    expect_one_error(std::string(kNode) + "data:\n  homed_prefixes: [\"" + std::string(2044, '8') +
                         "\"]\n",
                     "data.homed_prefixes[0]", 4, "at most 2043 octets");
}

TEST_F(ConfigTest, IdentifierFiles)
{
    dir_.write("ids.jsonl", "");
    dir_.write("sub/more.jsonl", "");
    const auto abs = dir_.write("abs.jsonl", "");
    const Config c = parse_ok(std::string(kNode) +
                              "data:\n  identifier_files: [ids.jsonl, ./sub/../sub/more.jsonl, \"" +
                              abs.string() + "\"]\n");
    EXPECT_EQ(c.data.identifier_files, (std::vector<std::filesystem::path>{
                                           dir_ / "ids.jsonl", dir_ / "sub/more.jsonl", abs}));

    expect_one_error(std::string(kNode) + "data:\n  identifier_files: [ids.jsonl, nope.jsonl]\n",
                     "data.identifier_files[1]", 4,
                     "cannot read " + (dir_ / "nope.jsonl").string() +
                         ": No such file or directory");
    expect_one_error(std::string(kNode) + "data:\n  identifier_files: [sub]\n",
                     "data.identifier_files[0]", 4, "is not a regular file");
    expect_one_error(std::string(kNode) + "data:\n  identifier_files: [ids.jsonl, ./ids.jsonl]\n",
                     "data.identifier_files[1]", 4, "listed twice");
    expect_one_error(std::string(kNode) + "data:\n  identifier_files: ids.jsonl\n",
                     "data.identifier_files", 4, "must be a list");
}

TEST_F(ConfigTest, UnreadableIdentifierFile)
{
    if (::geteuid() == 0)
        GTEST_SKIP() << "root reads any file";
    const auto p = dir_.write("secret.jsonl", "");
    std::filesystem::permissions(p, std::filesystem::perms::none);
    expect_one_error(std::string(kNode) + "data:\n  identifier_files: [secret.jsonl]\n",
                     "data.identifier_files[0]", 4, "Permission denied");
}

// ---- site -------------------------------------------------------------------------------------

constexpr std::string_view kSite = R"(node: {id: n1}
site:
  servers:
    - id: 1
      address: 192.0.2.10
      interfaces:
        - {type: query, protocol: udp, port: 2641}
        - {type: admin+query, protocol: tcp, port: 2641}
)";

TEST_F(ConfigTest, SiteDefaults)
{
    const Config c = parse_ok(kSite);
    ASSERT_TRUE(c.site.configured);
    const auto& info = c.site.info;
    EXPECT_EQ(info.serial, 1);
    EXPECT_TRUE(info.is_primary());
    EXPECT_EQ(info.primary_mask, wire::site::kPrimaryMask);
    EXPECT_EQ(info.hash_option, wire::site::kHashByHandle);
    EXPECT_EQ(info.major, wire::kImplMajor);
    EXPECT_EQ(info.minor, wire::kImplMinor);
    EXPECT_TRUE(info.attributes.empty());
    ASSERT_EQ(info.servers.size(), 1u);
    const std::array<std::uint8_t, 16> v4{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 10};
    EXPECT_EQ(info.servers[0].address, v4);
    ASSERT_EQ(info.servers[0].interfaces.size(), 2u);
    EXPECT_EQ(info.servers[0].interfaces[0],
              (wire::SiteInterface{wire::site::kInterfaceQuery, wire::site::kProtocolUdp, 2641}));
    EXPECT_EQ(
        info.servers[0].interfaces[1],
        (wire::SiteInterface{wire::site::kInterfaceAdminAndQuery, wire::site::kProtocolTcp, 2641}));
}

TEST_F(ConfigTest, SiteErrorsPointAtTheOffendingLine)
{
    std::string yaml(kSite);
    yaml.replace(yaml.find("192.0.2.10"), 10, "192.0.2.300");
    expect_one_error(yaml, "site.servers[0].address", 5, "not an IPv4 or IPv6 address");

    yaml = kSite;
    yaml.replace(yaml.find("port: 2641}\n        - {type: admin"), 10, "port: 70000");
    expect_one_error(yaml, "site.servers[0].interfaces[0].port", 7, "must be an integer 0..65535");

    yaml = kSite;
    yaml.replace(yaml.find("protocol: tcp"), 13, "protocol: sctp");
    expect_one_error(yaml, "site.servers[0].interfaces[1].protocol", 8,
                     "must be one of udp, tcp, http, https");

    yaml = kSite;
    yaml.replace(yaml.find("type: query"), 11, "type: read");
    expect_one_error(yaml, "site.servers[0].interfaces[0].type", 7,
                     "must be one of out-of-service, admin, query, admin+query");

    // A missing field is reported where its mapping starts.
    yaml = kSite;
    yaml.replace(yaml.find("      address: 192.0.2.10\n"), 26, "");
    expect_one_error(yaml, "site.servers[0].address", 4, "missing field");

    yaml = std::string(kSite) + "  colour: blue\n";
    expect_one_error(yaml, "site.colour", 9, "unknown field");

    expect_one_error("node: {id: n1}\nsite:\n  serial: 1\n", "site.servers", 3, "missing field");
    expect_one_error("node: {id: n1}\nsite: {servers: []}\n", "site.servers", 2, "1..256 servers");
    expect_one_error("node: {id: n1}\nsite: yes\n", "site", 2, "must be an object");
    expect_one_error("node: {id: n1}\nsite:\n", "site", 2, "missing value");
}

TEST_F(ConfigTest, SiteFieldTypes)
{
    std::string yaml = std::string(kSite) + "  serial: \"7\"\n";
    expect_one_error(yaml, "site.serial", 9, "must be an integer 0..65535, got a string");
    yaml = std::string(kSite) + "  serial: 65536\n";
    expect_one_error(yaml, "site.serial", 9, "must be an integer 0..65535, got 65536");
    yaml = std::string(kSite) + "  primary: 1\n";
    expect_one_error(yaml, "site.primary", 9, "must be true or false");
    yaml = std::string(kSite) + "  hash: md5\n";
    expect_one_error(yaml, "site.hash", 9, "must be one of prefix, suffix, handle");
    yaml = std::string(kSite) + "  attributes: {desc: 5}\n";
    expect_one_error(yaml, "site.attributes.desc", 9, "must be a string");
    yaml = std::string(kSite) + "  attributes: [desc]\n";
    expect_one_error(yaml, "site.attributes", 9, "must be an object");
    yaml = std::string(kSite) + "    - id: 1\n      address: \"::1\"\n      interfaces: [{type: "
                                "query, protocol: udp, port: 1}]\n";
    expect_one_error(yaml, "site.servers[1].id", 9, "server id 1 is used twice");
    yaml = std::string(kSite);
    yaml.replace(yaml.find("      interfaces:"), 17,
                 "      public_key_hex: xyz\n      interfaces:");
    expect_one_error(yaml, "site.servers[0].public_key_hex", 6, "odd number");
}

TEST_F(ConfigTest, SiteDuplicateKeyAndAliasLoop)
{
    std::string yaml = std::string(kSite) + "  serial: 1\n  serial: 2\n";
    expect_one_error(yaml, "site.serial", 10, "duplicate key");
    // An alias to its own anchor makes a cycle in yaml-cpp's graph: bounded, not a hang.
    const auto errors = parse_errors("node: {id: n1}\nsite: &a {servers: [*a]}\n");
    ASSERT_FALSE(errors.empty());
    EXPECT_THAT(errors[0].reason, HasSubstr("nested deeper than"));
}

TEST_F(ConfigTest, SiteAliasBombIsBounded)
{
    // Every level multiplies the expansion by ten; yaml_to_json stops at 10,000 nodes.
    const auto errors = parse_errors(R"(node: {id: n1}
site:
  servers: &l4 [&l3 [&l2 [&l1 [&l0 [0,0,0,0,0,0,0,0,0,0], *l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0],
    *l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1], *l2,*l2,*l2,*l2,*l2,*l2,*l2,*l2,*l2], *l3,*l3,*l3,*l3,*l3,*l3,*l3,*l3,*l3]
)");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_THAT(errors[0].reason, HasSubstr("more than 10000 YAML nodes"));
}

// ---- structure: unknown keys, duplicates, syntax ------------------------------------------------

TEST_F(ConfigTest, UnknownKeys)
{
    expect_one_error(std::string(kNode) + "colour: blue\n", "colour", 3,
                     "unknown key (known here: node, service, site, data, admin, dataplane, replication, recursion, mirror)");
    expect_one_error(std::string(kNode) + "service:\n  udp_thread: 2\n", "service.udp_thread", 4,
                     "did you mean \"udp_threads\"?");
    expect_one_error("node:\n  id: n1\n  name: x\n", "node.name", 3, "unknown key");
    expect_one_error(std::string(kNode) + "Service: {}\n", "Service", 3,
                     "did you mean \"service\"?");
    expect_one_error(std::string(kNode) + "service:\n  udp:\n    threads: 2\n", "service.udp", 5,
                     "must be a list");
    expect_one_error(std::string(kNode) + "service.udp_threads: 2\n", "service.udp_threads", 3,
                     "not dotted names");
    const auto dotted = parse_errors("node.id: a\n");
    ASSERT_EQ(dotted.size(), 2u); // and node.id itself is then missing
    EXPECT_THAT(dotted[0].reason, HasSubstr("not dotted names"));
}

TEST_F(ConfigTest, SectionsMustBeMappings)
{
    expect_one_error(std::string(kNode) + "service: 5\n", "service", 3,
                     "must be a mapping of keys");
    expect_one_error(std::string(kNode) + "data: [a]\n", "data", 3, "must be a mapping of keys");
    for (const char* text : {"- node\n- service\n", "just text\n"}) {
        const auto errors = parse_errors(text);
        ASSERT_EQ(errors.size(), 2u) << text;
        EXPECT_EQ(errors[0].line, 1);
        EXPECT_EQ(errors[0].key, "");
        EXPECT_THAT(errors[0].reason, HasSubstr("the file must be a mapping of sections"));
        EXPECT_EQ(errors[1].key, "node.id"); // and so nothing in it was read
    }
    expect_one_error(std::string(kNode) + "? [a, b]\n: c\n", "", 3, "keys must be plain names");
}

TEST_F(ConfigTest, DuplicateKeys)
{
    expect_one_error("node:\n  id: a\n  id: b\n", "node.id", 3, "duplicate key (first at line 2)");
    const auto errors = parse_errors("node: {id: a}\nservice: {}\nservice: {udp_threads: 0}\n");
    ASSERT_EQ(errors.size(), 1u); // the second section is not read at all
    EXPECT_EQ(errors[0].key, "service");
    EXPECT_EQ(errors[0].line, 3);
}

TEST_F(ConfigTest, SyntaxErrorsHaveALine)
{
    const auto errors = parse_errors("node:\n  id: a\nservice:\n  udp: [\"0.0.0.0\"\n  tcp: []\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].key, "");
    EXPECT_GE(errors[0].line, 4);
    EXPECT_THAT(errors[0].reason, HasSubstr("YAML syntax error"));

    const auto tabs = parse_errors("node:\n\tid: a\n");
    ASSERT_EQ(tabs.size(), 1u);
    EXPECT_EQ(tabs[0].line, 2);

    const auto docs = parse_errors("node: {id: a}\n---\nnode: {id: b}\n");
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_THAT(docs[0].reason, HasSubstr("more than one YAML document"));
    EXPECT_EQ(docs[0].line, 2); // the "---" that starts the second

    const auto deep = parse_errors(std::string(5000, '[') + std::string(5000, ']'));
    ASSERT_EQ(deep.size(), 1u);

    // yaml-cpp 0.7's LoadAll() loops forever on these; parse_config() must return.
    for (const char* text : {",", ",node:\n  id: a\n", "node: {id: a}\n---\n,\n"})
        EXPECT_FALSE(parse(text)) << text;
}

TEST_F(ConfigTest, EveryErrorIsReportedWithItsLine)
{
    const auto errors = parse_errors(R"(node:
  role: primary
service:
  udp_threads: 0
  max_udp_datagrams: 9999
  tcp: ["nonsense"]
  colour: blue
data:
  homed_prefixes: ["a/b"]
  identifier_files: [missing.jsonl]
admin:
  socket: relative.sock
)");
    std::vector<std::pair<int, std::string>> got;
    for (const auto& e : errors)
        got.emplace_back(e.line, e.key);
    const std::vector<std::pair<int, std::string>> want{
        {1, "node.id"},
        {2, "node.role"},
        {4, "service.udp_threads"},
        {5, "service.max_udp_datagrams"},
        {6, "service.tcp[0]"},
        {7, "service.colour"},
        {9, "data.homed_prefixes[0]"},
        {10, "data.identifier_files[0]"},
        {12, "admin.socket"},
    };
    EXPECT_EQ(got, want);
    for (const auto& e : errors)
        EXPECT_GT(e.column, 0) << e.to_string();
}

TEST_F(ConfigTest, InvalidValuesAreNeverDefaulted)
{
    // An invalid key fails the whole config even when the rest is fine.
    EXPECT_FALSE(parse(std::string(kNode) + "service: {udp_threads: 65}\n"));
}

// ---- errors as text, files ----------------------------------------------------------------------

TEST(ConfigErrorTest, ToString)
{
    EXPECT_EQ((ConfigError{"a.yaml", 3, 5, "service.udp", "bad"}.to_string()),
              "a.yaml:3:5: service.udp: bad");
    EXPECT_EQ((ConfigError{"a.yaml", 3, 0, "k", "bad"}.to_string()), "a.yaml:3: k: bad");
    EXPECT_EQ((ConfigError{"a.yaml", 0, 0, "", "cannot read"}.to_string()), "a.yaml: cannot read");
    EXPECT_EQ((ConfigError{"a.yaml", 2, 1, "", "YAML syntax error: x"}.to_string()),
              "a.yaml:2:1: YAML syntax error: x");
}

TEST_F(ConfigTest, LoadConfigFile)
{
    const auto file =
        dir_.write("conf/idpathd.yaml", "node: {id: f}\ndata: {identifier_files: [x.jsonl]}\n");
    dir_.write("conf/x.jsonl", "");
    auto c = load_config_file(file);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->source, file);
    EXPECT_EQ(c->data.identifier_files,
              (std::vector<std::filesystem::path>{dir_ / "conf/x.jsonl"}));

    auto missing = load_config_file(dir_ / "nope.yaml");
    ASSERT_FALSE(missing);
    ASSERT_EQ(missing.error().size(), 1u);
    EXPECT_EQ(missing.error()[0].line, 0);
    EXPECT_EQ(missing.error()[0].to_string(),
              (dir_ / "nope.yaml").string() + ": cannot read: No such file or directory");

    auto directory = load_config_file(dir_ / "conf");
    ASSERT_FALSE(directory);
    EXPECT_THAT(directory.error()[0].reason, HasSubstr("not a regular file"));

    const auto bad = dir_.write("bad.yaml", "node: {id: f}\nservice: {udp_threads: 0}\n");
    auto errors = load_config_file(bad);
    ASSERT_FALSE(errors);
    EXPECT_EQ(errors.error()[0].to_string(),
              bad.string() + ":2:24: service.udp_threads: must be an integer 1..64, got 0");
}

// ---- reload comparison --------------------------------------------------------------------------

TEST_F(ConfigTest, ChangedAndRestartRequiredKeys)
{
    const Config a = parse_ok(kSite);
    EXPECT_TRUE(changed_keys(a, a).empty());
    std::string yaml(kSite);
    yaml += "service: {max_udp_datagrams: 4, udp: [\"127.0.0.1\"]}\ndata: {homed_prefixes: [x]}\n";
    yaml.replace(yaml.find("port: 2641}"), 11, "port: 2642}");
    const Config b = parse_ok(yaml);
    EXPECT_EQ(changed_keys(a, b),
              (std::vector<std::string>{"service.udp", "service.max_udp_datagrams", "site",
                                        "data.homed_prefixes"}));
    EXPECT_EQ(restart_required_keys(a, b), (std::vector<std::string>{"service.udp"}));
    EXPECT_EQ(restart_required_keys(a, parse_ok("node: {id: other}\n")),
              (std::vector<std::string>{"node.id"}));
}

// ---- the schema against its documentation -------------------------------------------------------

TEST_F(ConfigTest, DocumentedDefaultsAreTheDefaults)
{
    const Config defaults = parse_ok(kNode);
    // recursion.* keys are only valid on a recursive node: compared with one.
    const Config recursive_defaults = parse_ok(with_key("recursion.roots", "[\"192.0.2.1\"]"));
    for (const KeySpec& k : schema()) {
        if (k.required || k.default_text.starts_with("("))
            continue;
        SCOPED_TRACE(std::string(k.path));
        const auto dot = k.path.find('.');
        const std::string section(k.path.substr(0, dot));
        const std::string yaml =
            section == "node" ? std::string(kNode) + "  " + std::string(k.path.substr(dot + 1)) +
                                    ": " + std::string(k.default_text) + "\n"
                              : with_key(k.path, k.default_text);
        if (k.path.starts_with("recursion.")) {
            const std::string ryaml = yaml + companion(k.path);
            EXPECT_TRUE(changed_keys(recursive_defaults, parse_ok(ryaml)).empty()) << ryaml;
            continue;
        }
        EXPECT_TRUE(changed_keys(defaults, parse_ok(yaml)).empty()) << yaml;
    }
}

TEST(ConfigSchemaTest, DescribeSchemaListsEveryKey)
{
    const std::string table = describe_schema();
    for (const KeySpec& k : schema()) {
        EXPECT_THAT(table, HasSubstr("`" + std::string(k.path) + "`"));
        EXPECT_FALSE(k.description.empty()) << k.path;
        EXPECT_EQ(find_key(k.path), &k);
    }
    EXPECT_TRUE(is_section("service"));
    EXPECT_FALSE(is_section("service.udp"));
    EXPECT_FALSE(is_section("serv"));
    EXPECT_EQ(find_key("service"), nullptr);
}

std::string read_text(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(ConfigSchemaTest, DocsAndExampleCoverEveryKey)
{
    const std::string docs = read_text(test::source_root() / "docs/configuration.md");
    const std::string example = read_text(test::source_root() / "configs/idpathd.example.yaml");
    ASSERT_FALSE(docs.empty());
    ASSERT_FALSE(example.empty());
    for (const KeySpec& k : schema()) {
        EXPECT_THAT(docs, HasSubstr("`" + std::string(k.path) + "`")) << "docs/configuration.md";
        const std::string leaf(k.path.substr(k.path.rfind('.') + 1));
        EXPECT_THAT(example, HasSubstr(leaf + ":")) << "configs/idpathd.example.yaml";
    }
    // docs/configuration.md embeds describe_schema() verbatim.
    EXPECT_THAT(docs, HasSubstr(describe_schema()));
}

TEST(ConfigFilesTest, ShippedConfigsValidate)
{
    for (const char* name : {"configs/sample/idpathd.yaml", "configs/idpathd.example.yaml"}) {
        SCOPED_TRACE(name);
        auto c = load_config_file(test::source_root() / name);
        if (!c) {
            for (const auto& e : c.error())
                ADD_FAILURE() << e.to_string();
            continue;
        }
        EXPECT_EQ(c->data.homed_prefixes, (std::vector<std::string>{"88.100.1", "88.200.7"}));
        ASSERT_EQ(c->data.identifier_files.size(), 1u);
        EXPECT_EQ(c->data.identifier_files[0].filename(), "identifiers.jsonl");
        EXPECT_TRUE(c->site.configured);
        EXPECT_TRUE(c->site.info.is_primary());
    }
}

// ---- dataplane: string lists, booleans and their checks ----------------------------------------

TEST_F(ConfigTest, DataplaneKeysAreTyped)
{
    const Config c = parse_ok(std::string(kNode) + R"(dataplane:
  mode: dpdk
  lcores: "0-1"
  hugepages: false
  devices: ["net_af_xdp0,iface=idpd0", "0000:01:00.0"]
  ipv4: [192.0.2.1]
  ipv6: ["2001:db8::1", "fe80::1"]
  neighbors: kernel
  other_traffic: exception
)");
    EXPECT_EQ(c.dataplane.mode, "dpdk");
    EXPECT_FALSE(c.dataplane.hugepages);
    EXPECT_EQ(c.dataplane.devices,
              (std::vector<std::string>{"net_af_xdp0,iface=idpd0", "0000:01:00.0"}));
    EXPECT_EQ(c.dataplane.ipv4, std::vector<std::string>{"192.0.2.1"});
    EXPECT_EQ(c.dataplane.ipv6.size(), 2u);
    EXPECT_EQ(c.dataplane.neighbors, "kernel");
    EXPECT_EQ(c.dataplane.other_traffic, "exception");
}

TEST_F(ConfigTest, DataplaneDefaultsAreSockets)
{
    const Config c = parse_ok(std::string(kNode));
    EXPECT_EQ(c.dataplane.mode, "sockets");
    EXPECT_TRUE(c.dataplane.hugepages);
    EXPECT_TRUE(c.dataplane.devices.empty());
}

TEST_F(ConfigTest, DataplaneValuesAreChecked)
{
    expect_one_error(with_key("dataplane.mode", "xdp"), "dataplane.mode", 4,
                     "must be one of sockets, dpdk");
    expect_one_error(with_key("dataplane.hugepages", "yes"), "dataplane.hugepages", 4,
                     "must be true or false, got \"yes\"");
    expect_one_error(with_key("dataplane.hugepages", "\"true\""), "dataplane.hugepages", 4,
                     "must be true or false");
    expect_one_error(with_key("dataplane.lcores", "\"0-1; rm\""), "dataplane.lcores", 4,
                     "EAL's --lcores syntax");
    expect_one_error(with_key("dataplane.devices", "[eth0]"), "dataplane.devices[0]", 4,
                     "neither a PCI address");
    expect_one_error(with_key("dataplane.devices", "[net_null0, net_null0]"),
                     "dataplane.devices[1]", 4, "is listed twice");
    expect_one_error(with_key("dataplane.ipv4", "[\"2001:db8::1\"]"), "dataplane.ipv4[0]", 4,
                     "is not an IPv4 address");
    expect_one_error(with_key("dataplane.ipv6", "[192.0.2.1]"), "dataplane.ipv6[0]", 4,
                     "is not an IPv6 address");
    expect_one_error(with_key("dataplane.ipv4", "[1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5]"),
                     "dataplane.ipv4", 4, "must have 0..4 entries");
    expect_one_error(with_key("dataplane.neighbors", "always"), "dataplane.neighbors", 4,
                     "must be one of auto, answer, kernel");
    expect_one_error(with_key("dataplane.exception_prefix", "Bad/Name"),
                     "dataplane.exception_prefix", 4, "may hold only");
}

// ---- mirror: sinks, spool, and keys checked together ------------------------------------------

TEST_F(ConfigTest, MirrorIsOffByDefault)
{
    const Config c = parse_ok(std::string(kNode));
    EXPECT_EQ(c.mirror.ring_records, 65536u);
    EXPECT_EQ(c.mirror.spool.directory, "/var/lib/idpath/spool");
    EXPECT_EQ(c.mirror.spool.max_mb, 1024u);
    EXPECT_TRUE(c.mirror.file.directory.empty());
    EXPECT_TRUE(c.mirror.syslog.address.empty());
    EXPECT_TRUE(c.mirror.kafka.brokers.empty());
    EXPECT_TRUE(c.mirror.clickhouse.url.empty());
    EXPECT_EQ(c.mirror.file.retention_days, 183u);
    EXPECT_EQ(c.mirror.clickhouse.retention_days, 183u);
}

TEST_F(ConfigTest, MirrorKeysAreTyped)
{
    const Config c = parse_ok(std::string(kNode) + R"(mirror:
  batch_records: 1000
  spool: {directory: /srv/spool, max_mb: 0}
  file: {directory: /var/log/idpath, format: json, zstd_level: 9}
  syslog:
    address: "[2001:db8::5]:6514"
    tls: true
    ca_file: /etc/idpath/ca.pem
    cert_file: /etc/idpath/node.pem
    key_file: /etc/idpath/node.key
    server_name: logs.example.cn
  kafka:
    brokers: "k1.example.cn:9092,192.0.2.7:9093,[2001:db8::9]:9092"
    topic: idpath.sc-01
    properties: ["compression.type=zstd", "sasl.password=a b=c"]
  clickhouse:
    url: "http://127.0.0.1:8123/"
    table: logs.queries
    password: "s3cret p"
)");
    EXPECT_EQ(c.mirror.batch_records, 1000u);
    EXPECT_EQ(c.mirror.spool.directory, "/srv/spool");
    EXPECT_EQ(c.mirror.spool.max_mb, 0u);
    EXPECT_EQ(c.mirror.file.format, "json");
    EXPECT_EQ(c.mirror.file.zstd_level, 9u);
    EXPECT_EQ(c.mirror.syslog.address, "[2001:db8::5]:6514");
    EXPECT_TRUE(c.mirror.syslog.tls);
    EXPECT_EQ(c.mirror.syslog.server_name, "logs.example.cn");
    EXPECT_EQ(c.mirror.kafka.topic, "idpath.sc-01");
    EXPECT_EQ(c.mirror.kafka.properties.size(), 2u);
    EXPECT_EQ(c.mirror.kafka.format, "binary");
    EXPECT_EQ(c.mirror.clickhouse.table, "logs.queries");
    EXPECT_EQ(c.mirror.clickhouse.password, "s3cret p");
    EXPECT_EQ(restart_required_keys(parse_ok(std::string(kNode)), c).size(), 18u);
}

TEST_F(ConfigTest, MirrorValuesAreChecked)
{
    expect_one_error(with_key("mirror.file.format", "protobuf"), "mirror.file.format", 5,
                     "must be one of binary, json");
    expect_one_error(with_key("mirror.kafka.format", "xml"), "mirror.kafka.format", 5,
                     "must be one of binary, json");
    expect_one_error(with_key("mirror.spool.directory", "spool"), "mirror.spool.directory", 5,
                     "must be an absolute path");
    expect_one_error(with_key("mirror.spool.directory", "\"\""), "mirror.spool.directory", 5,
                     "must be 1..4095 octets");
    expect_one_error(with_key("mirror.file.directory", "logs/"), "mirror.file.directory", 5,
                     "must be an absolute path");
    expect_one_error(with_key("mirror.syslog.address", "\"::1\""), "mirror.syslog.address", 5,
                     "in brackets");
    expect_one_error(with_key("mirror.syslog.address", "192.0.2.1:70000"),
                     "mirror.syslog.address", 5, "the port must be 1..65535");
    expect_one_error(with_key("mirror.syslog.address", "\"logs:\""), "mirror.syslog.address", 5,
                     "empty port");
    expect_one_error(with_key("mirror.syslog.address", "\"[::1\""), "mirror.syslog.address", 5,
                     "no ']'");
    expect_one_error(with_key("mirror.syslog.address", "\":514\""), "mirror.syslog.address", 5,
                     "no host");
    expect_one_error(with_key("mirror.kafka.brokers", "k1:9092,,k2:9092"), "mirror.kafka.brokers",
                     5, "empty entry");
    expect_one_error(with_key("mirror.kafka.brokers", "k1:0"), "mirror.kafka.brokers", 5,
                     "the port must be");
    expect_one_error(with_key("mirror.kafka.brokers", "\"k 1:9092\""), "mirror.kafka.brokers",
                     5, "a host is");
    expect_one_error(with_key("mirror.kafka.brokers", "\"[::x]:9092\""), "mirror.kafka.brokers",
                     5, "bad IPv6");
    expect_one_error(with_key("mirror.kafka.topic", "\"a/b\""), "mirror.kafka.topic", 5,
                     "may hold only");
    expect_one_error(with_key("mirror.kafka.properties", "[compression.type]"),
                     "mirror.kafka.properties[0]", 5, "must be key=value");
    expect_one_error(with_key("mirror.kafka.properties", "[\"=zstd\"]"),
                     "mirror.kafka.properties[0]", 5, "must be key=value");
    expect_one_error(with_key("mirror.kafka.properties", "[\"Bad Key=1\"]"),
                     "mirror.kafka.properties[0]", 5, "the key may hold only");
    expect_one_error(with_key("mirror.clickhouse.url", "ftp://h/"), "mirror.clickhouse.url", 5,
                     "http:// or https://");
    expect_one_error(with_key("mirror.clickhouse.url", "http:///x"), "mirror.clickhouse.url", 5,
                     "has no host");
    expect_one_error(with_key("mirror.clickhouse.table", "a.b.c"), "mirror.clickhouse.table", 5,
                     "table or database.table");
    expect_one_error(with_key("mirror.clickhouse.table", "\"q; DROP\""),
                     "mirror.clickhouse.table", 5, "may hold only");
    expect_one_error(with_key("mirror.syslog.tls", "yes"), "mirror.syslog.tls", 5,
                     "must be true or false");
    expect_one_error(with_key("mirror.spol", "{max_mb: 1}"), "mirror.spol", 4,
                     "did you mean \"spool\"");
}

TEST_F(ConfigTest, MirrorSyslogTlsSettingsGoTogether)
{
    const std::string head = std::string(kNode) + "mirror:\n  syslog:\n    address: 192.0.2.1:6514\n";
    expect_one_error(head + "    tls: true\n", "mirror.syslog.ca_file", 4,
                     "mirror.syslog.tls is true");
    expect_one_error(head + "    tls: true\n    ca_file: /ca.pem\n    key_file: /k.pem\n",
                     "mirror.syslog.key_file", 4, "name the certificate too");
    expect_one_error(head + "    ca_file: /ca.pem\n", "mirror.syslog.tls",
                     4, "mirror.syslog.tls is false");
    const Config c = parse_ok(head + "    tls: true\n    ca_file: /ca.pem\n");
    EXPECT_TRUE(c.mirror.syslog.tls);
    EXPECT_TRUE(c.mirror.syslog.cert_file.empty());
    // The key may be in the certificate's file.
    EXPECT_EQ(parse_ok(head + "    tls: true\n    ca_file: /ca.pem\n    cert_file: /c.pem\n")
                  .mirror.syslog.cert_file,
              "/c.pem");
}

TEST(ConfigHostPortTest, HostsPortsAndBrackets)
{
    auto hp = parse_host_port("logs.example.cn", 514);
    ASSERT_TRUE(hp);
    EXPECT_EQ(hp->host, "logs.example.cn");
    EXPECT_EQ(hp->port, 514u);
    hp = parse_host_port("192.0.2.1:6514", 514);
    ASSERT_TRUE(hp);
    EXPECT_EQ(hp->host, "192.0.2.1");
    EXPECT_EQ(hp->port, 6514u);
    hp = parse_host_port("[2001:db8::1]:601", 514);
    ASSERT_TRUE(hp);
    EXPECT_EQ(hp->host, "2001:db8::1");
    EXPECT_EQ(hp->port, 601u);
    hp = parse_host_port("[::1]", 9092);
    ASSERT_TRUE(hp);
    EXPECT_EQ(hp->host, "::1");
    EXPECT_EQ(hp->port, 9092u);
    for (const char* bad : {"", ":1", "h:", "h:x", "h:65536", "h:1:2", "[::1]x", "[zz]:1", "[]:1",
                            "h/x:1", "[::1]:"})
        EXPECT_FALSE(parse_host_port(bad, 1)) << bad;
}

} // namespace
} // namespace idpath::config
