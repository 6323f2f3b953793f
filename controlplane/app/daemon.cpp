#include "controlplane/app/daemon.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "controlplane/admin/admin_server.hpp"
#include "controlplane/app/dpdk_mode.hpp"
#include "controlplane/app/mirror_setup.hpp"
#include "controlplane/app/recursion_service.hpp"
#include "controlplane/app/replication_ports.hpp"
#include "controlplane/app/stats_json.hpp"
#include "controlplane/app/table_source.hpp"
#include "controlplane/journal/journal_table.hpp"
#include "controlplane/journal/txn_mark.hpp"
#include "controlplane/log/log.hpp"
#include "controlplane/replication/repl_client.hpp"
#include "controlplane/replication/repl_server.hpp"
#include "controlplane/snapshot/snapshot_file.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/base/bytes_text.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/buffer.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/table_digest.hpp"
#include "dataplane/table/update.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/site_info.hpp"
#include "dataplane/wire/value.hpp"
#include "drivers/socket/tcp_server.hpp"
#include "drivers/socket/udp_server.hpp"

namespace idpath::app {
namespace {

using nlohmann::json;

std::string join_endpoints(const std::vector<socket::Endpoint>& v)
{
    std::string s;
    for (const auto& e : v)
        s += (s.empty() ? "" : " ") + e.to_string();
    return s.empty() ? "-" : s;
}

json endpoints_json(const std::vector<socket::Endpoint>& v)
{
    json a = json::array();
    for (const auto& e : v)
        a.push_back(e.to_string());
    return a;
}

std::string join(const std::vector<std::string>& v)
{
    std::string s;
    for (const auto& e : v)
        s += (s.empty() ? "" : ", ") + e;
    return s;
}

/// A table that did not fit in the hugepages still serves, slower: said once, not per reload.
void warn_if_memory_fell_back()
{
    static std::atomic<bool> warned{false};
    const table::BlockUsage u = table::block_usage();
    if (u.fallbacks == 0 || warned.exchange(true))
        return;
    log::warning("table: ", u.fallbacks, " block(s) did not fit in ", u.source_name ? u.source_name : "the block source",
                 " and use anonymous memory instead (reserve more hugepages); idpathctl status: table.memory");
}

/// Keys of the answering policy, named in a reload's outcome when they change.
/// `idpathctl digest`: the table's content digest (dataplane/table/table_digest.hpp) as hex.
std::string digest_json(const table::TableDigest& d)
{
    const auto hex64 = [](std::uint64_t v) {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
        return std::string(buf);
    };
    json buckets = json::array();
    for (std::size_t i = 0; i < d.buckets.size(); ++i)
        buckets.push_back({{"digest", hex64(d.buckets[i])}, {"records", d.bucket_records[i]}});
    return json{{"records", d.records}, {"digest", hex64(d.total())}, {"buckets", buckets}}.dump(2);
}

// How long a stopping idpathd gives the log mirror's sinks to take the last batches; the rest
// stays in their spools (on disk) and is replayed at the next start.
constexpr std::chrono::milliseconds kMirrorFlushTimeout{5000};

constexpr const char* kPolicyKeys[] = {"service.max_udp_datagrams", "service.expiration_seconds", "site"};

} // namespace

resolve::Policy policy_from(const config::Config& cfg)
{
    resolve::Policy p;
    p.expiration_seconds = cfg.service.expiration_seconds;
    p.max_udp_datagrams = cfg.service.max_udp_datagrams;
    if (cfg.site.configured) {
        p.primary = cfg.site.info.is_primary();
        p.site_serial = cfg.site.info.serial;
        p.site_info = wire::encode_site_info(cfg.site.info);
    }
    // A mirror's answers are not authoritative, whatever its site says (HANDLE.NET mirrors
    // answer without AT).
    if (cfg.node.role == "mirror")
        p.primary = false;
    // A recursive node answers anything it holds, cached from elsewhere: never authoritative.
    if (cfg.node.role == "recursive") {
        p.recursive = true;
        p.primary = false;
    }
    return p;
}

Daemon::Daemon(config::Config cfg, std::string admin_socket_override)
    : cfg_(std::move(cfg)), admin_socket_override_(std::move(admin_socket_override))
{
    if (!admin_socket_override_.empty())
        cfg_.admin.socket = admin_socket_override_;
    policy_owner_ = std::make_shared<const resolve::Policy>(policy_from(cfg_));
    policy_.store(policy_owner_.get(), std::memory_order_seq_cst);
}

Daemon::~Daemon() { stop(); }

void Daemon::post_event(std::string category, std::vector<std::pair<std::string, std::string>> fields)
{
    if (mirror_ && mirror_->logging())
        mirror_->events().post(std::move(category), std::move(fields));
}

Result<bool, std::string> Daemon::start()
{
    started_ = std::chrono::steady_clock::now();
    log::info("idpathd ", IDPATH_VERSION, " node ", cfg_.node.id, " (", cfg_.node.role, ") from ", cfg_.source.string());

    // The log mirror's sinks and spools before anything serves: a sink that cannot be made is
    // a config error, and the first query already has a ring to go to.
    auto mirror = MirrorSetup::make(cfg_);
    if (!mirror)
        return Err{mirror.error()};
    mirror_ = std::move(mirror).value();

    // EAL first: with hugepages the table is built in DPDK's heap, which exists only after it.
    if (cfg_.dataplane.mode == "dpdk") {
        auto dp = DpdkMode::open(cfg_);
        if (!dp)
            return Err{dp.error()};
        dpdk_ = std::move(*dp);
    }

    auto built = load_table(cfg_);
    if (!built)
        return Err{built.error() + "; nothing loaded, not starting"};
    if (!cfg_.data.journal.empty()) {
        // A journal that cannot be trusted stops the start, as a damaged snapshot does.
        journal::JournalOptions options;
        options.segment_bytes = std::uint64_t{cfg_.data.journal_segment_mb} << 20;
        options.retain_ms = std::int64_t{cfg_.data.journal_retain_days} * 86'400'000;
        auto opened = journal::Journal::open(cfg_.data.journal, std::move(options));
        if (!opened)
            return Err{opened.error() + "; not starting"};
        journal_ = std::move(opened).value();
        if (journal_->truncated_bytes() > 0)
            log::warning("journal ", cfg_.data.journal, ": cut a torn tail of ", journal_->truncated_bytes(),
                      " bytes (a crash mid-append; that update was never acknowledged)");
        const std::lock_guard lock(mutex_);
        auto replayed = replay_journal_locked(*built->table, built->source, cfg_);
        if (!replayed)
            return Err{replayed.error() + "; not starting"};
    }
    table_ = std::move(built->table);
    table_source_ = built->source;
    load_report_ = built->report;
    current_.store(table_.get(), std::memory_order_seq_cst);
    generation_ = 1;
    log::info("table from ", table_source_, ": ", table_->size(), " handles, ", table_->value_bytes(),
              " bytes encoded, ", table_->homed_count(), " homed prefixes, loaded in ", load_report_.seconds, " s");
    warn_if_memory_fell_back();

    const table::Table* table = table_.get();
    // seq_cst pairs with Reclaimer::online()'s fence (a plain load on x86).
    auto source = [this] { return current_.load(std::memory_order_seq_cst); };
    const std::size_t readers = cfg_.service.udp.size() * std::max(1u, cfg_.service.udp_threads) + 1;
    reclaimer_ = std::make_unique<Reclaimer>(static_cast<unsigned>(readers));
    if (!cfg_.service.udp.empty()) {
        socket::UdpServerOptions uo;
        uo.listen = cfg_.service.udp;
        uo.threads_per_socket = cfg_.service.udp_threads;
        uo.reclaimer = reclaimer_.get();
        if (mirror_)
            for (std::size_t i = 0; i < cfg_.service.udp.size() * std::max(1u, cfg_.service.udp_threads); ++i) {
                uo.query_logs.push_back(mirror_->add_source("udp-" + std::to_string(i)));
                uo.probes.push_back(mirror_->add_probe_source("udp-" + std::to_string(i)));
            }
        if (cfg_.node.role == "recursive")
            make_miss_rings(uo);
        udp_ = std::make_unique<socket::UdpServer>(uo, resolve::PolicyRef(policy_), source);
        if (auto r = udp_->start(); !r)
            return Err{"udp: " + r.error()};
        if (mirror_) {
            const auto stats = udp_->query_log_stats();
            for (std::size_t i = 0; i < uo.query_logs.size() && i < stats.size(); ++i)
                mirror_->set_source_stats(uo.query_logs[i], stats[i]);
            const auto probe_stats = udp_->probe_stats();
            for (std::size_t i = 0; i < uo.probes.size() && i < probe_stats.size(); ++i)
                mirror_->set_probe_stats(uo.probes[i], probe_stats[i]);
        }
    }
    if (!cfg_.service.tcp.empty()) {
        socket::TcpServerOptions to;
        to.listen = cfg_.service.tcp;
        to.max_connections = cfg_.service.tcp_max_connections;
        to.idle_timeout_ms = cfg_.service.tcp_idle_timeout_ms;
        to.punt_timeout_ms = cfg_.service.tcp_punt_timeout_ms;
        to.reclaimer = reclaimer_.get();
        if (mirror_)
            to.query_log = mirror_->add_source("tcp");
        if (cfg_.node.role == "recursive") {
            // Misses with REC set wait on their connection for a resolver thread's answer.
            tcp_punts_ = std::make_unique<socket::TcpPuntQueue>(cfg_.recursion.ring_entries);
            if (!tcp_punts_->valid())
                return Err{std::string("tcp: cannot create the punt queue's eventfd")};
            to.punts = tcp_punts_.get();
        }
        tcp_ = std::make_unique<socket::TcpServer>(to, resolve::PolicyRef(policy_), source);
        if (mirror_)
            mirror_->set_source_stats(to.query_log, &tcp_->query_log_stats());
        if (auto r = tcp_->start(); !r)
            return Err{"tcp: " + r.error()};
    }
    std::vector<querylog::Target> lcore_logs;
    std::vector<querylog::ProbeTarget> lcore_probes;
    if (dpdk_ && mirror_) {
        for (std::size_t w = 0; w < dpdk_->worker_count(); ++w) {
            lcore_logs.push_back(mirror_->add_source("lcore-" + std::to_string(w)));
            lcore_probes.push_back(mirror_->add_probe_source("lcore-" + std::to_string(w)));
        }
        dpdk_->set_query_logs(lcore_logs);
        dpdk_->set_probes(lcore_probes);
    }
    if (dpdk_ && cfg_.node.role == "recursive")
        dpdk_->enable_punt(cfg_.recursion.ring_entries);
    if (dpdk_)
        if (auto r = dpdk_->launch(resolve::PolicyRef(policy_), table); !r)
            return Err{r.error()};
    start_recursion();
    for (std::size_t w = 0; w < lcore_logs.size(); ++w) {
        mirror_->set_source_stats(lcore_logs[w], dpdk_->query_log_stats(w));
        mirror_->set_probe_stats(lcore_probes[w], dpdk_->probe_stats(w));
    }
    if (table_source_ != "snapshot")
        changes_ = 1;
    last_snapshot_save_ = std::chrono::steady_clock::now();
    schedule_thread_ = std::thread([this] { run_snapshot_schedule(); });
    if (mirror_) {
        mirror_->start();
        post_event("daemon.start", {{"version", IDPATH_VERSION},
                                    {"config", cfg_.source.string()},
                                    {"table_source", table_source_},
                                    {"handles", std::to_string(table_->size())}});
    }
    if (auto r = start_replication(); !r)
        return Err{r.error()};
    // Last: an admin socket that answers means every listener and worker is serving. From then
    // on a reload may replace cfg_, so it is not read here without the mutex.
    const std::string admin_socket = cfg_.admin.socket;
    admin_ = std::make_unique<admin::AdminServer>(admin_socket,
                                                  [this](std::string_view c) { return handle_admin(c); });
    if (auto r = admin_->start(); !r)
        return Err{"admin: " + r.error()};
    log::info("serving: udp ", udp_ ? join_endpoints(udp_->bound()) : "-", dpdk_ ? " + dpdk" : "",
              "; tcp ", tcp_ ? join_endpoints(tcp_->bound()) : "-", "; admin ", admin_socket);
    return true;
}

void Daemon::stop()
{
    // Replication first: nothing applies to the table or reads it for a mirror while it goes.
    stop_replication();
    if (schedule_thread_.joinable()) {
        {
            const std::lock_guard lock(schedule_mutex_);
            schedule_stop_ = true;
        }
        schedule_wake_.notify_all();
        schedule_thread_.join();
    }
    // The resolver threads answer on the UDP threads' sockets, into the TCP thread's reply
    // queue and the DPDK workers' inboxes, and write the table: before all of them.
    stop_recursion();
    if (udp_)
        udp_->stop();
    if (tcp_)
        tcp_->stop();
    // The admin thread reads the data plane's counters: it stops first.
    if (admin_)
        admin_->stop();
    if (dpdk_)
        dpdk_->stop();
    // Every serving thread has stopped writing records: the mirror drains the rings and flushes
    // its sinks; what a sink does not take in time stays in its spool for the next start.
    if (mirror_) {
        post_event("daemon.stop", {});
        mirror_->stop(kMirrorFlushTimeout);
    }
    // Nothing reads the table any more. It may live in DPDK's heap, which EAL's cleanup (in
    // close()) unmaps: it is freed before.
    {
        const std::lock_guard lock(mutex_);
        current_.store(nullptr, std::memory_order_seq_cst);
        table_.reset();
    }
    if (dpdk_)
        dpdk_->close();
}

Result<std::string, std::string> Daemon::reload()
{
    const std::lock_guard lock(mutex_);
    auto r = reload_locked(std::chrono::steady_clock::now());
    ++reloads_;
    last_reload_unix_ = static_cast<std::int64_t>(std::time(nullptr));
    if (!r) {
        ++reload_failures_;
        last_reload_result_ = "refused: " + r.error();
        log::error("reload ", last_reload_result_, "; still serving generation ", generation_);
        post_event("config.reload", {{"result", "refused"}, {"reason", r.error()}});
        return Err{last_reload_result_};
    }
    last_reload_result_ = *r;
    log::info(*r);
    post_event("config.reload", {{"result", "ok"},
                                 {"generation", std::to_string(generation_)},
                                 {"table_source", table_source_},
                                 {"handles", std::to_string(table_ ? table_->size() : 0)},
                                 {"detail", *r}});
    return r;
}

Result<std::string, std::string> Daemon::reload_locked(std::chrono::steady_clock::time_point begin)
{
    auto loaded = config::load_config_file(cfg_.source);
    if (!loaded) {
        for (const auto& e : loaded.error())
            log::error(e.to_string());
        std::string text = cfg_.source.string() + ": " + std::to_string(loaded.error().size()) + " error(s)";
        if (!loaded.error().empty())
            text += ", first: " + loaded.error().front().to_string();
        return Err{std::move(text)};
    }
    config::Config next = std::move(loaded).value();
    if (!admin_socket_override_.empty())
        next.admin.socket = admin_socket_override_;
    if (const auto keys = config::restart_required_keys(cfg_, next); !keys.empty())
        return Err{"restart required to change " + join(keys)};

    std::vector<std::string> policy_changes;
    for (const auto& key : config::changed_keys(cfg_, next))
        for (const char* p : kPolicyKeys)
            if (key == p)
                policy_changes.push_back(key);

    auto built = load_table(next);
    if (!built)
        return Err{built.error()};
    if (journal_) {
        auto replayed = replay_journal_locked(*built->table, built->source, next);
        if (!replayed)
            return Err{replayed.error()};
    }
    warn_if_memory_fell_back();
    const std::size_t was = table_ ? table_->size() : 0;
    const std::size_t now = built->table->size();
    // The new policy goes out with the new table: the grace period publish() waits for covers
    // both, and then the old policy is freed with the old table.
    auto old_policy = std::move(policy_owner_);
    policy_owner_ = std::make_shared<const resolve::Policy>(policy_from(next));
    policy_.store(policy_owner_.get(), std::memory_order_seq_cst);
    if (recursion_)
        recursion_->set_policy(*policy_owner_);
    publish(std::move(built->table));
    preload_prefix_routes();
    old_policy.reset();
    table_source_ = built->source;
    load_report_ = built->report;
    cfg_ = std::move(next);
    // A table read from the snapshot file is what that file holds; one read from the identifier
    // files is not in it yet.
    if (table_source_ != "snapshot")
        ++changes_;
    else
        saved_changes_ = changes_;
    char took[32];
    std::snprintf(took, sizeof took, "%.3f",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    std::string text = "reloaded: " + std::to_string(now) + " handles (was " + std::to_string(was) + ") in " +
                       took + " s, generation " + std::to_string(generation_) + ", from " + table_source_;
    if (!policy_changes.empty())
        text += "; answering with the new " + join(policy_changes);
    return text;
}

void Daemon::publish(std::shared_ptr<table::Table> next)
{
    current_.store(next.get(), std::memory_order_seq_cst);
    if (reclaimer_)
        reclaimer_->synchronize();
    if (dpdk_)
        dpdk_->publish(next.get());
    // No reader can hold the old generation any more: it is freed here (off the hot path).
    table_ = std::move(next);
    cached_keys_.clear(); // cached answers went with it
    ++generation_;
}

void Daemon::wait_for_readers()
{
    if (reclaimer_)
        reclaimer_->synchronize();
    if (dpdk_)
        dpdk_->publish(table_.get()); // the same table: only the grace period
}

std::string Daemon::update(std::string_view path)
{
    if (path.empty() || path.front() != '/')
        return "error: update needs an absolute path to a JSON-lines file (idpathctl makes it absolute)\n";
    // Parsed before the lock: serving threads never wait anyway, but status and reloads would.
    auto file = load::read_update_file(std::string(path), static_cast<std::uint32_t>(std::time(nullptr)));
    if (!file) {
        for (const auto& e : file.error())
            log::error(e.to_string());
        post_event("table.update", {{"result", "refused"},
                                    {"file", std::string(path)},
                                    {"errors", std::to_string(file.error().size())},
                                    {"first_error", file.error().front().to_string()}});
        return "error: update refused, nothing applied (" + std::to_string(file.error().size()) +
               " error(s)): " + file.error().front().to_string() + "\n";
    }
    const std::lock_guard lock(mutex_);
    if (!table_)
        return "error: no table\n";
    // Each chunk's applied changes are journaled (one write, fsynced) before its grace period
    // and before the reply: an acknowledged update survives a crash. A journal that cannot be
    // written stops the batch; that chunk is in memory but not on disk, which the reply says.
    UpdateHooks hooks;
    std::vector<journal::Entry> pending;
    if (journal_) {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        hooks.applied = [&](const table::Update& u) {
            pending.push_back(journal::entry_for(*table_, u, static_cast<std::int64_t>(now_ms)));
        };
        hooks.chunk_done = [&]() -> std::string {
            auto appended = journal_->append(pending);
            pending.clear();
            return appended ? std::string() : appended.error() + " (changes applied in memory, not journaled)";
        };
    }
    bool failed = false;
    last_update_result_ = apply_update_file(*table_, *file, [this] { wait_for_readers(); }, updates_, hooks, &failed);
    ++changes_;
    if (failed) {
        log::error(last_update_result_, " from ", path);
        post_event("table.update", {{"result", "failed"}, {"file", std::string(path)}, {"detail", last_update_result_}});
        return "error: " + last_update_result_ + "\n";
    }
    log::info(last_update_result_, " from ", path);
    post_event("table.update", {{"result", "ok"}, {"file", std::string(path)}, {"detail", last_update_result_}});
    return "ok\n" + last_update_result_ + "\n";
}

std::string Daemon::snapshot_command(std::string_view args)
{
    const auto space = args.find(' ');
    const std::string_view sub = args.substr(0, space);
    if (sub != "save")
        return "error: snapshot needs a subcommand: snapshot save [FILE]\n";
    const std::lock_guard lock(mutex_);
    std::string path = space == std::string_view::npos ? cfg_.data.snapshot : std::string(args.substr(space + 1));
    if (path.empty())
        return "error: snapshot save needs a FILE, or data.snapshot in the config\n";
    if (path.front() != '/')
        return "error: snapshot save needs an absolute path (idpathctl makes it absolute)\n";
    auto saved = save_snapshot_locked(path, "admin");
    return saved ? "ok\n" + *saved + "\n" : "error: " + saved.error() + "\n";
}

Result<std::string, std::string> Daemon::save_snapshot_locked(const std::string& path, const char* trigger)
{
    if (!table_)
        return Err{std::string("no table")};
    table::snapshot::SnapshotMeta meta;
    meta.created_unix = static_cast<std::int64_t>(std::time(nullptr));
    meta.source = "idpathd@" + cfg_.node.id + " generation " + std::to_string(generation_);
    const std::uint64_t changes = changes_;
    const std::uint64_t txn = journal_ ? journal_->last_txn() : 0;
    auto saved = snapshot::save_snapshot(*table_, path, meta);
    if (!saved) {
        log::error(saved.error());
        last_snapshot_result_ = "failed: " + saved.error();
        post_event("snapshot.save", {{"result", "failed"}, {"trigger", trigger}, {"file", path}, {"reason", saved.error()}});
        return Err{saved.error()};
    }
    char text[512];
    std::snprintf(text, sizeof text, "saved %s: %llu handles, %llu bytes in %.3f s", path.c_str(),
                  static_cast<unsigned long long>(saved->records), static_cast<unsigned long long>(saved->bytes),
                  saved->seconds);
    last_snapshot_result_ = text;
    if (journal_ && path == cfg_.data.snapshot) {
        // After the snapshot: a crash between the two leaves an older mark, replayed harmlessly.
        if (auto marked = journal::write_txn_mark(journal::txn_mark_path(path), txn); !marked) {
            log::error(marked.error());
            last_snapshot_result_ = "failed: " + marked.error();
            post_event("snapshot.save",
                       {{"result", "failed"}, {"trigger", trigger}, {"file", path}, {"reason", marked.error()}});
            return Err{marked.error()};
        }
        // Retention may now delete what this snapshot holds.
        journal_->set_snapshot_base(txn);
    }
    if (path == cfg_.data.snapshot)
        saved_changes_ = changes;
    last_snapshot_save_ = std::chrono::steady_clock::now();
    log::info(last_snapshot_result_, " (", trigger, ")");
    post_event("snapshot.save", {{"result", "ok"}, {"trigger", trigger}, {"file", path}, {"detail", last_snapshot_result_}});
    return std::string(text);
}

Result<std::uint64_t, std::string> Daemon::replay_journal_locked(table::Table& next, const std::string& source,
                                                                 const config::Config& cfg)
{
    std::uint64_t base = 0;
    if (source == "snapshot") {
        auto mark = journal::read_txn_mark(journal::txn_mark_path(cfg.data.snapshot));
        if (!mark)
            return Err{mark.error()};
        base = *mark;
    }
    // Retention deleted the segments a snapshot held; a table from elsewhere (or an older
    // snapshot) would miss the changes in them.
    if (base + 1 < journal_->first_txn())
        return Err{"journal " + journal_->path().string() + " starts at txn " + std::to_string(journal_->first_txn()) +
                   " (older segments deleted by data.journal_retain_days) but the table from " + source +
                   " holds changes up to txn " + std::to_string(base) + " only: restore the snapshot that held them"};
    // `next` is not published yet: no reader holds what the replay replaces.
    table::Retired retired;
    std::uint64_t replayed = 0;
    std::string error;
    auto read = journal_->read_after(base, [&](const journal::Entry& e) {
        if (!error.empty())
            return;
        if (auto r = journal::replay_entry(next, e, retired); !r)
            error = journal_->path().string() + ": " + r.error();
        else
            ++replayed;
    });
    if (!read)
        return Err{read.error()};
    if (!error.empty())
        return Err{error};
    journal_replayed_ = replayed;
    if (source == "snapshot")
        journal_->set_snapshot_base(base);
    if (replayed > 0)
        log::info("journal ", journal_->path().string(), ": replayed ", replayed, " change(s) after txn ", base);
    return replayed;
}

void Daemon::run_snapshot_schedule()
{
    std::unique_lock wait_lock(schedule_mutex_);
    while (!schedule_stop_) {
        schedule_wake_.wait_for(wait_lock, std::chrono::seconds(1));
        if (schedule_stop_)
            break;
        const std::lock_guard lock(mutex_);
        const auto interval = std::chrono::seconds(cfg_.data.snapshot_interval_seconds);
        if (interval.count() == 0 || cfg_.data.snapshot.empty() || changes_ == saved_changes_ ||
            std::chrono::steady_clock::now() - last_snapshot_save_ < interval)
            continue;
        (void)save_snapshot_locked(cfg_.data.snapshot, "schedule");
    }
}

std::string Daemon::handle_admin(std::string_view command)
{
    const auto space = command.find(' ');
    const std::string_view verb = command.substr(0, space);
    const std::string_view arg = space == std::string_view::npos ? std::string_view{} : command.substr(space + 1);
    if (verb == "ping")
        return "ok\npong\n";
    // Operator actions are part of the maintenance log the regulation asks for; read-only
    // queries (status, stats, lookup, mirror) are not logged, to keep the stream for changes.
    if (verb == "reload" || verb == "update" || verb == "snapshot")
        post_event("admin", {{"command", std::string(command)}});
    if (verb == "mirror")
        return "ok\n" + (mirror_ ? mirror_->stats_json() : json{{"enabled", false}}).dump(2) + "\n";
    if (verb == "status") {
        const std::lock_guard lock(mutex_);
        return "ok\n" + status_json() + "\n";
    }
    if (verb == "stats") {
        const std::lock_guard lock(mutex_); // the table: a reload must not free it meanwhile
        return "ok\n" + stats_json() + "\n";
    }
    if (verb == "reload") {
        auto r = reload();
        return r ? "ok\n" + *r + "\n" : "error: reload " + r.error() + "\n";
    }
    if (verb == "update")
        return update(arg);
    if (verb == "snapshot")
        return snapshot_command(arg);
    if (verb == "sync")
        return sync_command(arg);
    const std::lock_guard lock(mutex_);
    if (verb == "digest")
        return table_ ? "ok\n" + digest_json(table::digest(*table_)) + "\n" : "error: no table\n";
    if (verb == "lookup") {
        if (arg.empty())
            return "error: lookup needs a handle\n";
        return lookup_json(arg);
    }
    return "error: unknown command '" + std::string(verb) +
           "' (status, stats, mirror, digest, lookup HANDLE, reload, update FILE, snapshot save [FILE], "
           "sync status|now, ping)\n";
}

std::string Daemon::status_json() const
{
    json j;
    j["version"] = IDPATH_VERSION;
    j["node"] = {{"id", cfg_.node.id}, {"role", cfg_.node.role}, {"config", cfg_.source.string()}};
    j["uptime_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    j["table"] = table_json(table_.get());
    j["table"]["source"] = table_source_;
    j["table"]["homed_prefixes"] = table_ ? table_->homed_prefixes() : std::vector<std::string>{};
    j["table"]["load_seconds"] = load_report_.seconds;
    j["table"]["generation"] = generation_;
    j["table"]["shard_rebuilds"] = table_ ? table_->shard_rebuilds() : 0;
    json by = json::object();
    for (std::size_t o = 0; o < updates_.by_outcome.size(); ++o)
        by[std::string(table::to_string(static_cast<table::UpdateOutcome>(o)))] = updates_.by_outcome[o];
    j["table"]["updates"] = {{"batches", updates_.batches},
                             {"by_outcome", by},
                             {"last_result", last_update_result_.empty() ? json(nullptr) : json(last_update_result_)}};
    j["table"]["snapshot"] = {
        {"path", cfg_.data.snapshot.empty() ? json(nullptr) : json(cfg_.data.snapshot)},
        {"last_save", last_snapshot_result_.empty() ? json(nullptr) : json(last_snapshot_result_)},
        {"interval_seconds", cfg_.data.snapshot_interval_seconds},
        {"unsaved_changes", changes_ != saved_changes_}};
    j["table"]["journal"] = journal_ ? json{{"path", journal_->path().string()},
                                            {"first_txn", journal_->first_txn()},
                                            {"last_txn", journal_->last_txn()},
                                            {"entries", journal_->entries()},
                                            {"segments", journal_->segments()},
                                            {"bytes", journal_->bytes()},
                                            {"segments_deleted", journal_->segments_deleted()},
                                            {"seal_failures", journal_->seal_failures()},
                                            {"replayed", journal_replayed_},
                                            {"truncated_tail_bytes", journal_->truncated_bytes()}}
                                     : json(nullptr);
    j["reload"] = {{"reloads", reloads_},
                   {"failures", reload_failures_},
                   {"last_unix", last_reload_unix_},
                   {"last_result", last_reload_result_.empty() ? json(nullptr) : json(last_reload_result_)}};
    j["listen"] = {{"udp", udp_ ? endpoints_json(udp_->bound()) : json::array()},
                   {"tcp", tcp_ ? endpoints_json(tcp_->bound()) : json::array()},
                   {"replication", repl_server_ ? endpoints_json(repl_server_->bound()) : json::array()}};
    j["dataplane"] = dpdk_ ? dpdk_->status() : json{{"mode", "sockets"}};
    j["replication"] = {
        {"mirror", repl_client_ ? json::parse(repl_client_->status_json()) : json(nullptr)},
        {"upstream_service", repl_server_ ? json::parse(repl_server_->stats_json()) : json(nullptr)},
        {"applied", repl_ports_ ? json::parse(repl_ports_->stats_json()) : json(nullptr)}};
    j["recursion"] = recursion_ ? json::parse(recursion_json()) : json(nullptr);
    const resolve::Policy& policy = *policy_owner_;
    j["policy"] = {{"primary", policy.primary},
                   {"recursive", policy.recursive},
                   {"site_serial", policy.site_serial},
                   {"max_udp_datagrams", policy.max_udp_datagrams},
                   {"expiration_seconds", policy.expiration_seconds}};
    return j.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string Daemon::stats_json() const
{
    json j;
    json total = json::object();
    json threads = json::array();
    const auto collect = [&](const char* transport, const std::vector<const resolve::ResolveStats*>& all) {
        for (std::size_t i = 0; i < all.size(); ++i) {
            json t = resolve_stats_json(*all[i]);
            add_into(total, t);
            t["transport"] = transport;
            t["thread"] = i;
            threads.push_back(std::move(t));
        }
    };
    if (udp_)
        collect("udp", udp_->stats());
    if (tcp_)
        collect("tcp", tcp_->stats());
    if (dpdk_)
        j["dataplane"] = dpdk_->stats(total);
    j["total"] = total;
    j["threads"] = threads;
    j["table"] = table_json(table_.get());
    if (recursion_)
        j["recursion"] = json::parse(recursion_json());
    if (mirror_)
        j["mirror"] = mirror_->stats_json();
    if (tcp_) {
        const socket::TcpStats& ts = tcp_->tcp_stats();
        json c = json::object();
        for (const auto& n : ts.named())
            c[n.name] = n.counter->get();
        c["open"] = ts.open();
        j["tcp_connections"] = c;
    }
    return j.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string Daemon::lookup_json(std::string_view handle) const
{
    const std::string key = table::normalize(handle);
    const auto rec = table_ ? table_->find(key) : std::nullopt;
    if (!rec)
        return "error: " + std::string(handle) + " is not in the table\n";
    json j;
    j["handle"] = key;
    json values = json::array();
    for (const auto& e : rec->values) {
        ByteReader r(rec->encoded.subspan(e.offset, e.length));
        const auto v = wire::decode_value(r);
        if (!v)
            continue;
        json jv = {{"index", v->index},
                   {"type", std::string(as_string_view(v->type))},
                   {"ttl", v->ttl},
                   {"ttl_type", v->ttl_type ? "absolute" : "relative"},
                   {"timestamp", v->timestamp},
                   {"permissions", wire::permissions_string(v->permissions)},
                   {"data_bytes", v->data.size()}};
        if (is_printable_utf8(v->data))
            jv["data"] = std::string(as_string_view(v->data));
        else
            jv["data_hex"] = hex(v->data);
        values.push_back(std::move(jv));
    }
    j["values"] = values;
    return "ok\n" + j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace idpath::app
