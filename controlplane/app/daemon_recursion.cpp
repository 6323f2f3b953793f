// The recursive role's side of the daemon (docs/recursion.md): miss rings for the UDP serving
// threads (the TCP thread's punt queue is made with its options), the resolver threads, and the
// cache writes they make into the serving table.

#include <algorithm>
#include <ctime>

#include <nlohmann/json.hpp>

#include "controlplane/app/daemon.hpp"
#include "controlplane/app/dpdk_mode.hpp"
#include "controlplane/app/frame_miss_channel.hpp"
#include "controlplane/app/mirror_setup.hpp"
#include "controlplane/app/socket_miss_channel.hpp"
#include "controlplane/app/tcp_miss_channel.hpp"
#include "controlplane/app/recursion_service.hpp"
#include "controlplane/app/recursive_reply.hpp"
#include "controlplane/log/log.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/table_walk.hpp"
#include "dataplane/wire/site_info.hpp"
#include "dataplane/wire/value.hpp"
#include "drivers/socket/tcp_server.hpp"
#include "drivers/socket/udp_server.hpp"

namespace idpath::app {

void Daemon::make_miss_rings(socket::UdpServerOptions& uo)
{
    const std::size_t threads = uo.listen.size() * std::max(1u, uo.threads_per_socket);
    for (std::size_t i = 0; i < threads; ++i) {
        miss_rings_.push_back(std::make_unique<socket::MissRing>(cfg_.recursion.ring_entries));
        uo.miss_rings.push_back(miss_rings_.back().get());
    }
}

void Daemon::start_recursion()
{
    for (const auto& r : miss_rings_)
        miss_channels_.push_back(std::make_unique<SocketMissChannel>(*r));
    if (tcp_punts_)
        miss_channels_.push_back(std::make_unique<TcpMissChannel>(*tcp_punts_));
    std::size_t punt_queues = 0;
    if (dpdk_)
        for (worker::PuntQueues* q : dpdk_->punt_queues()) {
            miss_channels_.push_back(std::make_unique<FrameMissChannel>(*q));
            ++punt_queues;
        }
    if (miss_channels_.empty())
        return;
    const config::Config::Recursion& rc = cfg_.recursion;
    RecursionServiceOptions o;
    o.engine.roots = rc.roots;
    o.engine.udp_timeout_ms = static_cast<int>(rc.udp_timeout_ms);
    o.engine.udp_tries = static_cast<int>(rc.udp_tries);
    o.engine.tcp_timeout_ms = static_cast<int>(rc.tcp_timeout_ms);
    o.engine.max_hops = rc.max_hops;
    o.engine.max_ttl = rc.max_ttl;
    o.engine.negative_ttl = rc.negative_ttl;
    o.engine.answer_cache_entries = rc.cache_entries;
    o.threads = rc.threads;
    o.max_cached = rc.cache_entries;
    // The resolver threads' answers are queries answered too: each thread is a log source, and
    // a probe source for the replies to requests a serving thread's probe sampled.
    if (mirror_)
        for (unsigned i = 0; i < std::max(1u, rc.threads); ++i) {
            o.query_logs.push_back(mirror_->add_source("resolver-" + std::to_string(i)));
            o.probes.push_back(mirror_->add_probe_source("resolver-" + std::to_string(i)));
        }
    const std::vector<querylog::Target> logs = o.query_logs;
    const std::vector<querylog::ProbeTarget> probes = o.probes;
    std::vector<MissChannel*> channels;
    for (const auto& c : miss_channels_)
        channels.push_back(c.get());
    CachePort port;
    port.insert = [this](const std::vector<CacheEntry>& e) { return cache_insert(e); };
    port.erase = [this](const std::vector<std::string>& k) { return cache_erase(k); };
    recursion_ = std::make_unique<RecursionService>(std::move(o), std::move(channels), *policy_owner_, std::move(port));
    for (std::size_t i = 0; i < logs.size(); ++i) {
        mirror_->set_source_stats(logs[i], recursion_->query_log_stats(i));
        mirror_->set_probe_stats(probes[i], recursion_->probe_stats(i));
    }
    preload_prefix_routes();
    recursion_->start();
    std::string roots;
    for (const auto& ep : rc.roots)
        roots += (roots.empty() ? "" : " ") + ep.to_string();
    log::info("recursion: ", rc.threads, " resolver thread(s), roots ", roots, ", ", miss_rings_.size(),
              " UDP thread miss ring(s), ", tcp_punts_ ? 1 : 0, " TCP punt queue(s) and ", punt_queues,
              " DPDK worker punt queue(s) of ", rc.ring_entries);
}

void Daemon::preload_prefix_routes()
{
    if (!recursion_ || !table_)
        return;
    constexpr std::string_view kPrefixNamespace = "0.NA/";
    const auto is = [](ByteSpan type, std::string_view want) {
        return type.size() == want.size() && std::equal(type.begin(), type.end(), want.begin(), [](std::uint8_t a, char b) {
                   return (a >= 'a' && a <= 'z' ? a - ('a' - 'A') : a) == static_cast<std::uint8_t>(b);
               });
    };
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    std::size_t prefixes = 0;
    table::for_each_record(*table_, [&](std::string_view key, const table::RecordView& rec) {
        if (!key.starts_with(kPrefixNamespace))
            return;
        std::vector<wire::SiteInfo> sites;
        for (const auto& e : rec.values) {
            if (!(e.permissions(rec.encoded) & wire::perm::kPublicRead))
                continue;
            const ByteSpan type = e.type(rec.encoded);
            if (!is(type, "HS_SITE") && !is(type, "HS_SITE.6"))
                continue;
            ByteReader r(rec.encoded.subspan(e.offset, e.length));
            const auto v = wire::decode_value(r);
            if (!v)
                continue;
            if (auto site = wire::decode_site_info(v->data); site.ok())
                sites.push_back(std::move(site.value()));
        }
        if (sites.empty())
            return;
        // IPv4 sites first, as the engine orders what it learns.
        std::stable_partition(sites.begin(), sites.end(), [](const wire::SiteInfo& si) {
            return !si.servers.empty() && si.servers.front().is_ipv4();
        });
        // Configured routing: trusted for the longest any answer is kept.
        recursion_->engine().services().put(std::string(key), std::move(sites), cfg_.recursion.max_ttl, now);
        ++prefixes;
    });
    if (prefixes > 0)
        log::info("recursion: ", prefixes, " prefix route(s) preloaded from the table");
}

void Daemon::stop_recursion()
{
    if (recursion_)
        recursion_->stop();
}

std::vector<std::string> Daemon::cache_insert(const std::vector<CacheEntry>& entries)
{
    std::vector<std::string> inserted;
    const std::lock_guard lock(mutex_);
    if (!table_)
        return inserted;
    table::Retired retired;
    for (const CacheEntry& e : entries) {
        // Data the node holds from its own files, a snapshot or an update is never replaced by
        // a cached copy (a request for it raced the insert, or the key was updated since).
        if (!cached_keys_.contains(e.key) && table_->find(e.key))
            continue;
        auto values = wire::decode_values(e.encoded, e.count);
        if (!values)
            continue;
        auto rec = table::encode_record(e.key, std::move(*values));
        if (!rec)
            continue;
        table_->upsert(*rec, retired);
        cached_keys_.insert(e.key);
        inserted.push_back(e.key);
    }
    // Not counted in changes_: cached answers are not data worth a scheduled snapshot.
    if (!retired.empty())
        wait_for_readers();
    return inserted;
}

std::size_t Daemon::cache_erase(const std::vector<std::string>& keys)
{
    const std::lock_guard lock(mutex_);
    if (!table_)
        return 0;
    table::Retired retired;
    std::size_t erased = 0;
    for (const std::string& key : keys) {
        if (cached_keys_.erase(key) == 0)
            continue; // not ours (any more): a reload replaced the table since
        erased += table_->erase(key, retired) ? 1 : 0;
    }
    if (!retired.empty())
        wait_for_readers();
    return erased;
}

std::string Daemon::recursion_json() const
{
    nlohmann::json j = recursion_ ? nlohmann::json::parse(recursion_->stats_json()) : nlohmann::json::object();
    std::uint64_t punted = 0, dropped = 0;
    const auto add = [&](const std::vector<const resolve::ResolveStats*>& stats) {
        for (const resolve::ResolveStats* s : stats) {
            punted += s->punted.get();
            dropped += s->punt_dropped.get();
        }
    };
    if (udp_)
        add(udp_->stats());
    if (tcp_)
        add(tcp_->stats());
    if (dpdk_) {
        nlohmann::json total = nlohmann::json::object();
        dpdk_->stats(total);
        punted += total.value("punted", std::uint64_t{0});
        dropped += total.value("punt_dropped", std::uint64_t{0});
    }
    j["punted"] = punted;
    j["punt_dropped"] = dropped;
    return j.dump();
}

} // namespace idpath::app
