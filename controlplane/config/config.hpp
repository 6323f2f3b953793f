#pragma once
/// idpathd's configuration: one YAML file, validated against a declarative schema
/// (controlplane/config/schema.hpp) into an immutable, typed Config.
///
/// Every key, its type, range, default and whether a reload can change it: docs/configuration.md
/// (generated from the schema by describe_schema()). Rules:
/// - unknown keys, duplicate keys and values of the wrong type or out of range are errors;
///   a default is used only for a key that is absent, never in place of an invalid value;
/// - every error is collected (not just the first), each naming file, line, column and key path;
/// - yaml-cpp exceptions never leave controlplane/config.
/// Control plane only; parse_config() and load_config_file() are safe on any thread (no shared
/// state) and never throw except std::bad_alloc.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/result.hpp"
#include "dataplane/wire/site_info.hpp"
#include "drivers/socket/address.hpp"

namespace idpath::config {

struct ConfigError {
    std::string file;
    int line = 0;    // 1-based; 0 when the error is about the whole file
    int column = 0;  // 1-based; 0 when unknown
    std::string key; // dotted path, "service.udp[1]"; empty for syntax errors
    std::string reason;

    /// "file:line:column: key.path: reason"; parts that are unknown are left out.
    std::string to_string() const;
};

struct Config {
    std::filesystem::path source; // the file read

    struct Node {
        std::string id;
        std::string role = "authoritative";
    } node;

    struct Service {
        std::vector<socket::Endpoint> udp; // default 0.0.0.0:2641 and [::]:2641
        std::vector<socket::Endpoint> tcp; // default 0.0.0.0:2641 and [::]:2641
        unsigned udp_threads = 1;          // threads per UDP socket (SO_REUSEPORT)
        std::uint32_t max_udp_datagrams = 8;
        std::uint32_t expiration_seconds = 43200;
        unsigned tcp_max_connections = 1024;
        std::uint32_t tcp_idle_timeout_ms = 30000;
        std::uint32_t tcp_punt_timeout_ms = 10000;

        Service();
    } service;

    /// This node's HS_SITE: the body of GET_SITE_INFO answers; a primary site sets AT.
    struct Site {
        bool configured = false;
        wire::SiteInfo info;
    } site;

    struct Data {
        std::vector<std::string> homed_prefixes;
        /// Absolute, or relative to the working directory when the config file's path was.
        std::vector<std::filesystem::path> identifier_files;
        /// Absolute; empty: no snapshot.
        std::string snapshot;
        /// Save the table to `snapshot` this often when it changed; 0: never on a schedule.
        std::uint32_t snapshot_interval_seconds = 0;
        /// Absolute; empty: no change journal.
        std::string journal;
        /// Seal the journal's active file into a segment once it passes this many MiB; 0: never.
        std::uint32_t journal_segment_mb = 256;
        /// Delete sealed segments whose newest entry is older than this many days and that the
        /// snapshot holds; 0: keep every segment.
        std::uint32_t journal_retain_days = 0;
    } data;

    struct Admin {
        std::string socket = "/run/idpath/idpathd.sock";
    } admin;

    /// Where UDP queries are answered: kernel sockets only, or DPDK workers on lcores
    /// (docs/dpdk.md). Every key is init-only: the ports and lcores are set up once.
    struct Dataplane {
        std::string mode = "sockets"; // sockets | dpdk
        std::string lcores = "0-1";   // EAL --lcores; the first runs control, the rest workers
        std::string file_prefix = "idpath";
        bool hugepages = true;
        std::uint32_t memory_mb = 512;
        std::vector<std::string> devices; // "0000:01:00.0" or "net_af_xdp0,iface=eth1"
        std::uint32_t rx_ring = 1024;
        std::uint32_t tx_ring = 1024;
        std::vector<std::string> ipv4; // empty: the addresses of the devices' iface=, if any
        std::vector<std::string> ipv6;
        std::string neighbors = "auto";     // auto | answer | kernel
        std::string other_traffic = "drop"; // drop | exception
        std::string exception_prefix = "idpx";
        std::string xdp_object = "/run/idpath/idpath_xdp.bpf.o";
        std::uint32_t log_level = 4;
        std::uint32_t idle_sleep_us = 0; // 0: busy-poll
    } dataplane;

    /// HANDLE.NET replication (docs/replication.md): the mirror role's client (upstream set)
    /// and serving as an upstream (serve.listen set). Every key is init-only.
    struct Replication {
        std::string upstream;      // "a.b.c.d[:port]" / "[v6][:port]"; empty: not a mirror
        std::string upstream_key;  // the upstream server's public key file
        std::string admin;         // "300:0.NA/88.100.1": whom this node authenticates as
        std::string admin_key;     // its private key (HS_PUBKEY) or secret (HS_SECKEY) file
        std::string admin_key_passphrase_file; // an encrypted HANDLE.NET admin key's passphrase
        std::string auth = "HS_PUBKEY"; // HS_PUBKEY | HS_SECKEY
        std::string state;         // the replication state file
        std::uint32_t interval_seconds = 5;
        std::uint32_t num_servers = 1; // sharded replication: this node pulls the handles that
        std::uint32_t server_num = 0;  // hash to server_num of num_servers
        std::uint32_t hash_type = 2;   // what the shard hash covers (0 prefix, 1 suffix, 2 handle)
        std::uint32_t timeout_ms = 30000;
        std::uint32_t backoff_min_ms = 1000;
        std::uint32_t backoff_max_ms = 300000;
        bool allow_signed_blocks = false; // accept a pre-2.8 primary's signed-plaintext stream
        struct Serve {
            std::vector<socket::Endpoint> listen; // empty: not an upstream
            std::string key;                      // this server's private key file
            std::string key_passphrase_file;      // an encrypted HANDLE.NET key's passphrase
            std::vector<std::string> admins;      // "300:0.NA/88.100.1[ KEYFILE]"
            std::uint32_t max_connections = 16;
        } serve;
    } replication;

    /// The recursive role (node.role recursive, docs/recursion.md): UDP misses resolved from the
    /// root servers down and cached. Every key is init-only.
    struct Recursion {
        std::vector<socket::Endpoint> roots; // the global / top-level service to start from
        std::uint32_t threads = 2;           // resolver threads
        std::uint32_t udp_timeout_ms = 1000; // per UDP try upstream
        std::uint32_t udp_tries = 2;         // before TCP
        std::uint32_t tcp_timeout_ms = 5000;
        std::uint32_t max_hops = 10;
        std::uint32_t max_ttl = 172800;      // caps every value TTL (HANDLE.NET: 2 days)
        std::uint32_t negative_ttl = 60;     // 100 / 200 kept this long; 0: not at all
        std::uint32_t cache_entries = 1000000;
        std::uint32_t ring_entries = 4096;   // per UDP serving thread
    } recursion;

    /// The log mirror (docs/log-mirror.md): every query's record, heartbeats and control-plane
    /// events to the sinks configured here. A sink is on when its destination key is set; the
    /// mirror is on when any sink is, or the probe. Every key is init-only for now.
    struct Mirror {
        std::uint32_t ring_records = 65536;   // per serving thread
        std::uint32_t heartbeat_seconds = 5;
        std::uint32_t batch_records = 4096;
        std::uint32_t batch_ms = 200;
        struct Spool {
            std::string directory = "/var/lib/idpath/spool"; // one subdirectory per sink
            std::uint32_t max_mb = 1024;                     // per sink; 0: no spool
        } spool;
        struct File {
            std::string directory; // empty: off
            std::string format = "binary"; // binary | json
            std::uint32_t rotate_mb = 256;
            std::uint32_t rotate_seconds = 3600;
            std::uint32_t retention_days = 183;
            std::uint32_t zstd_level = 3;
        } file;
        struct Syslog {
            std::string address; // "host[:port]", "[v6][:port]" (parse_host_port()); empty: off
            bool tls = false;
            std::string ca_file;
            std::string cert_file;
            std::string key_file;
            std::string server_name;
        } syslog;
        struct Kafka {
            std::string brokers; // "host[:port][,host[:port]...]"; empty: off
            std::string topic = "idpath-log";
            std::string format = "binary"; // binary | json
            std::vector<std::string> properties; // "key=value", librdkafka settings
        } kafka;
        struct Clickhouse {
            std::string url; // "http://host:8123/"; empty: off
            std::string table = "records"; // "[database.]table"; database idpath unless named
            std::string user = "default";
            std::string password;
            std::uint32_t retention_days = 183;
        } clickhouse;
        /// Probe mode: raw request and response packets to pcapng files, on by itself (no
        /// sink needed).
        struct Probe {
            std::string directory; // empty: off
            std::uint32_t sample = 1;          // one request in N (1: all)
            std::uint32_t snap_bytes = 2032;   // octets kept of each packet (the slot's size)
            std::uint32_t rotate_mb = 256;
            std::uint32_t rotate_seconds = 3600;
            std::uint32_t retention_days = 183;
            std::uint32_t ring_packets = 4096; // per serving thread, 2 KiB each
        } probe;
    } mirror;
};

/// Parses and validates `yaml_text`. `file_for_errors_and_base_dir` names the file in errors and
/// anchors relative data.identifier_files (its directory). Files listed in
/// data.identifier_files must exist and be readable regular files now.
Result<Config, std::vector<ConfigError>>
parse_config(std::string_view yaml_text, const std::filesystem::path& file_for_errors_and_base_dir);

/// Reads `file` and parse_config()s it. An unreadable file is one error with line 0.
Result<Config, std::vector<ConfigError>> load_config_file(const std::filesystem::path& file);

/// Key paths ("service.udp") whose values differ between two configs, in schema order.
std::vector<std::string> changed_keys(const Config& a, const Config& b);

/// The changed keys that a reload cannot apply (init-only): non-empty means restart needed.
std::vector<std::string> restart_required_keys(const Config& running, const Config& next);

/// A host and port as mirror.syslog.address and each of mirror.kafka.brokers are written:
/// "host[:port]", "a.b.c.d[:port]" or "[v6][:port]" (host: letters, digits, '.', '-', '_').
/// The host comes back without brackets; no name is looked up.
struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};
Result<HostPort, std::string> parse_host_port(std::string_view text, std::uint16_t default_port);

/// The schema as a Markdown table: key, type, range, default, reload, description.
std::string describe_schema();

} // namespace idpath::config
