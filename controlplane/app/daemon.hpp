#pragma once
/// idpathd's composition root: the only place that sees config, loading, the table, the
/// transports and the admin socket together (DESIGN.md section 2).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "controlplane/app/table_updates.hpp"
#include "controlplane/journal/journal.hpp"
#include "controlplane/config/config.hpp"
#include "controlplane/load/jsonl_loader.hpp"
#include "dataplane/base/qsbr.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/table/table.hpp"
#include "drivers/socket/miss_ring.hpp"
#include "drivers/socket/tcp_punt.hpp"

namespace idpath::socket {
class UdpServer;
class TcpServer;
struct UdpServerOptions;
} // namespace idpath::socket
namespace idpath::admin {
class AdminServer;
}
namespace idpath::app {
class DpdkMode;
class MirrorSetup;
class ReplicationPorts;
class RecursionService;
class MissChannel;
struct CacheEntry;
} // namespace idpath::app
namespace idpath::replication {
class ReplicationServer;
class ReplicationClient;
} // namespace idpath::replication

namespace idpath::app {

/// Table generations (DESIGN.md section 4): the serving table is replaced whole by reload(),
/// built off the hot path, published by an atomic pointer swap, and freed once every kernel
/// socket thread (Reclaimer) and DPDK worker (rte_rcu_qsbr) has passed a quiescent state.
/// Updates (`update FILE`) change the serving table in place through its writer, with the same
/// grace periods before replaced memory is freed; the mutex holder is the table's one writer.
/// Thread-safety: start() and stop() from the main thread; reload() and handle_admin() from
/// any thread (a mutex serializes them and guards the table and config they read).
class Daemon {
public:
    /// A non-empty `admin_socket_override` replaces admin.socket now and in every reload.
    explicit Daemon(config::Config cfg, std::string admin_socket_override = {});
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    /// Opens the DPDK data plane's EAL and ports (the table may live in its hugepages), loads
    /// the table (all or nothing), opens the listeners, starts the DPDK workers, then the admin
    /// socket, so an answering admin socket means the daemon is serving.
    /// The error names what failed (file:line for data, endpoint and errno for sockets).
    Result<bool, std::string> start();
    /// Stops the listeners (in-flight batches finish), the admin socket and the DPDK workers,
    /// frees the table, then closes the DPDK ports and EAL (whose heap may hold the table).
    /// Idempotent.
    void stop();

    /// Re-reads the config file and the identifier files it names and, if all is well, serves
    /// the new table. Refused, with the serving table untouched, when the config is invalid,
    /// changes an init-only key, or names data that does not load. Returns the text for the
    /// log and the admin reply: "reloaded: N handles (was M) in T s" or why not.
    Result<std::string, std::string> reload();

    /// Answers one admin command line (controlplane/admin/admin_server.hpp protocol).
    std::string handle_admin(std::string_view command);

private:
    friend class ReplicationPorts; // the table, journal and grace periods, under mutex_

    /// Replication (docs/replication.md): the mirror role's client when replication.upstream is
    /// set, the upstream service when replication.serve.listen is. Errors name key and file.
    Result<bool, std::string> start_replication();
    void stop_replication();
    /// `sync status`, `sync now`: the mirror's replication state and its proof of equality.
    std::string sync_command(std::string_view args);

    /// Recursive role (docs/recursion.md, daemon_recursion.cpp): one miss ring per UDP serving
    /// thread into `uo`, before the UDP server starts; the resolver threads after it.
    void make_miss_rings(socket::UdpServerOptions& uo);
    void start_recursion();
    void stop_recursion();
    /// Gives the engine the sites of every 0.NA/<prefix> record in the table (HS_SITE,
    /// HS_SITE.6) so it asks them without asking the roots. With mutex_ held or before serving.
    void preload_prefix_routes();
    /// The resolver threads' cache writes into the serving table: one lock and one grace period
    /// per batch. Only keys inserted here (cached_keys_) are ever erased or replaced.
    std::vector<std::string> cache_insert(const std::vector<CacheEntry>& entries);
    std::size_t cache_erase(const std::vector<std::string>& keys);
    /// `stats` / `status`: the engine's counters and the service's, with the serving threads'
    /// punts. With mutex_ held or not (reads counters only).
    std::string recursion_json() const;

    Result<std::string, std::string> reload_locked(std::chrono::steady_clock::time_point begin);
    void publish(std::shared_ptr<table::Table> next);
    /// Returns once no reader (socket thread, DPDK worker) can hold what the table's writer
    /// retired before the call.
    void wait_for_readers();
    std::string update(std::string_view path);
    std::string snapshot_command(std::string_view args);
    /// Writes the serving table to `path`; `trigger` ("admin", "schedule") goes in the log and
    /// the snapshot.save event. With mutex_ held.
    Result<std::string, std::string> save_snapshot_locked(const std::string& path, const char* trigger);
    /// Replays the journal's entries after the base onto `next` (not yet published), the base
    /// being data.snapshot's txn mark when `source` is "snapshot", else 0. With mutex_ held.
    Result<std::uint64_t, std::string> replay_journal_locked(table::Table& next, const std::string& source,
                                                             const config::Config& cfg);
    /// data.snapshot_interval_seconds: saves the table when it changed and the interval passed.
    void run_snapshot_schedule();
    /// A control-plane event into the log mirror (nothing when it is off). Any thread.
    void post_event(std::string category, std::vector<std::pair<std::string, std::string>> fields);

    // With mutex_ held.
    std::string status_json() const;
    std::string stats_json() const;
    std::string lookup_json(std::string_view handle) const;

    mutable std::mutex mutex_; // the fields below except the servers; reloads take it whole
    config::Config cfg_;       // as applied
    std::string admin_socket_override_;
    std::shared_ptr<const resolve::Policy> policy_owner_; // the policy in force
    std::atomic<const resolve::Policy*> policy_{nullptr}; // what the serving threads read
    std::shared_ptr<table::Table> table_; // owns the generation being served; mutex_ holder writes it
    std::string table_source_;            // "files" or "snapshot"
    std::atomic<const table::Table*> current_{nullptr}; // what the socket threads read
    std::unique_ptr<Reclaimer> reclaimer_;               // the socket threads' quiescent states
    load::LoadReport load_report_;
    std::uint64_t generation_ = 0;
    std::uint64_t reloads_ = 0;
    std::uint64_t reload_failures_ = 0;
    std::int64_t last_reload_unix_ = 0;
    std::string last_reload_result_;
    UpdateTotals updates_;
    std::string last_update_result_;
    std::string last_snapshot_result_;
    std::uint64_t changes_ = 0;       // updates applied and tables loaded from elsewhere than data.snapshot
    std::uint64_t saved_changes_ = 0; // changes_ when data.snapshot was last written
    std::chrono::steady_clock::time_point last_snapshot_save_{};
    std::unique_ptr<journal::Journal> journal_; // null: data.journal is off
    std::uint64_t journal_replayed_ = 0;        // entries replayed at the last table load
    std::thread schedule_thread_;
    std::mutex schedule_mutex_;
    std::condition_variable schedule_wake_;
    bool schedule_stop_ = false;
    std::unique_ptr<socket::UdpServer> udp_;
    std::unique_ptr<socket::TcpServer> tcp_;
    std::unique_ptr<admin::AdminServer> admin_;
    std::unique_ptr<DpdkMode> dpdk_;
    std::unique_ptr<MirrorSetup> mirror_; // null: no sink configured
    std::unique_ptr<ReplicationPorts> repl_ports_;                // null: no replication
    std::unique_ptr<replication::ReplicationServer> repl_server_; // null: not an upstream
    std::unique_ptr<replication::ReplicationClient> repl_client_; // null: not a mirror
    std::vector<std::unique_ptr<socket::MissRing>> miss_rings_; // one per UDP thread; recursive role
    std::unique_ptr<socket::TcpPuntQueue> tcp_punts_;            // the TCP thread's; recursive role
    std::vector<std::unique_ptr<MissChannel>> miss_channels_;   // UDP, TCP threads' and DPDK workers'
    std::unique_ptr<RecursionService> recursion_;                 // null: not recursive
    std::unordered_set<std::string> cached_keys_; // table keys the recursion cache put in table_
    std::chrono::steady_clock::time_point started_;
};

/// The resolver policy a config implies.
resolve::Policy policy_from(const config::Config& cfg);

} // namespace idpath::app
