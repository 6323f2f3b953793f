#include "controlplane/app/daemon.hpp"

#include <ctime>
#include <sstream>

#include <nlohmann/json.hpp>

#include "controlplane/admin/admin_server.hpp"
#include "controlplane/app/dpdk_mode.hpp"
#include "controlplane/app/stats_json.hpp"
#include "controlplane/log/log.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/base/bytes_text.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/handle_key.hpp"
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
    return p;
}

Daemon::Daemon(config::Config cfg) : cfg_(std::move(cfg)), policy_(policy_from(cfg_)) {}

Daemon::~Daemon() { stop(); }

Result<bool, std::string> Daemon::start()
{
    started_ = std::chrono::steady_clock::now();
    log::info("idpathd ", IDPATH_VERSION, " node ", cfg_.node.id, " (", cfg_.node.role, ") from ", cfg_.source.string());

    table::TableBuilder builder;
    for (const auto& p : cfg_.data.homed_prefixes)
        builder.home(p);
    const auto report = load::load_identifiers(cfg_.data.identifier_files, cfg_.data.homed_prefixes, builder,
                                               static_cast<std::uint32_t>(std::time(nullptr)));
    if (!report) {
        for (const auto& e : report.error())
            log::error(e.to_string());
        return Err{std::string("identifier data rejected (") + std::to_string(report.error().size()) +
                   " error(s)); nothing loaded, not starting"};
    }
    load_report_ = *report;
    table_ = std::move(builder).build();
    log::info("table: ", table_->size(), " handles, ", load_report_.values, " values, ", table_->value_bytes(),
              " bytes encoded, ", table_->homed_count(), " homed prefixes, loaded in ", load_report_.seconds, " s");

    const table::Table* table = table_.get();
    auto source = [table] { return table; };
    if (!cfg_.service.udp.empty()) {
        socket::UdpServerOptions uo;
        uo.listen = cfg_.service.udp;
        uo.threads_per_socket = cfg_.service.udp_threads;
        udp_ = std::make_unique<socket::UdpServer>(uo, policy_, source);
        if (auto r = udp_->start(); !r)
            return Err{"udp: " + r.error()};
    }
    if (!cfg_.service.tcp.empty()) {
        socket::TcpServerOptions to;
        to.listen = cfg_.service.tcp;
        to.max_connections = cfg_.service.tcp_max_connections;
        to.idle_timeout_ms = cfg_.service.tcp_idle_timeout_ms;
        tcp_ = std::make_unique<socket::TcpServer>(to, policy_, source);
        if (auto r = tcp_->start(); !r)
            return Err{"tcp: " + r.error()};
    }
    if (cfg_.dataplane.mode == "dpdk") {
        auto dp = DpdkMode::start(cfg_, policy_, table);
        if (!dp)
            return Err{dp.error()};
        dpdk_ = std::move(*dp);
    }
    // Last: an admin socket that answers means every listener and worker is serving.
    admin_ = std::make_unique<admin::AdminServer>(cfg_.admin.socket,
                                                  [this](std::string_view c) { return handle_admin(c); });
    if (auto r = admin_->start(); !r)
        return Err{"admin: " + r.error()};
    log::info("serving: udp ", udp_ ? join_endpoints(udp_->bound()) : "-", dpdk_ ? " + dpdk" : "",
              "; tcp ", tcp_ ? join_endpoints(tcp_->bound()) : "-", "; admin ", cfg_.admin.socket);
    return true;
}

void Daemon::stop()
{
    if (udp_)
        udp_->stop();
    if (tcp_)
        tcp_->stop();
    // The admin thread reads the data plane's counters: it stops first.
    if (admin_)
        admin_->stop();
    if (dpdk_)
        dpdk_->stop();
}

std::string Daemon::handle_admin(std::string_view command) const
{
    const auto space = command.find(' ');
    const std::string_view verb = command.substr(0, space);
    const std::string_view arg = space == std::string_view::npos ? std::string_view{} : command.substr(space + 1);
    if (verb == "ping")
        return "ok\npong\n";
    if (verb == "status")
        return "ok\n" + status_json() + "\n";
    if (verb == "stats")
        return "ok\n" + stats_json() + "\n";
    if (verb == "lookup") {
        if (arg.empty())
            return "error: lookup needs a handle\n";
        return lookup_json(arg);
    }
    return "error: unknown command '" + std::string(verb) + "' (status, stats, lookup HANDLE, ping)\n";
}

std::string Daemon::status_json() const
{
    json j;
    j["version"] = IDPATH_VERSION;
    j["node"] = {{"id", cfg_.node.id}, {"role", cfg_.node.role}, {"config", cfg_.source.string()}};
    j["uptime_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    j["table"] = {{"handles", table_ ? table_->size() : 0},
                  {"values", load_report_.values},
                  {"value_bytes", table_ ? table_->value_bytes() : 0},
                  {"homed_prefixes", table_ ? table_->homed_prefixes() : std::vector<std::string>{}},
                  {"load_seconds", load_report_.seconds}};
    j["listen"] = {{"udp", udp_ ? endpoints_json(udp_->bound()) : json::array()},
                   {"tcp", tcp_ ? endpoints_json(tcp_->bound()) : json::array()}};
    j["dataplane"] = dpdk_ ? dpdk_->status() : json{{"mode", "sockets"}};
    j["policy"] = {{"primary", policy_.primary},
                   {"site_serial", policy_.site_serial},
                   {"max_udp_datagrams", policy_.max_udp_datagrams},
                   {"expiration_seconds", policy_.expiration_seconds}};
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
