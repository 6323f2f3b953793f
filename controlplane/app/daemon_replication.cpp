// Daemon's replication wiring (docs/replication.md): which services start from the config,
// with what keys, and the `sync` admin command. The protocol is controlplane/replication's.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/app/daemon.hpp"
#include "controlplane/app/replication_ports.hpp"
#include "controlplane/crypto/keys.hpp"
#include "controlplane/log/log.hpp"
#include "controlplane/replication/repl_client.hpp"
#include "controlplane/replication/repl_server.hpp"
#include "drivers/socket/address.hpp"

namespace idpath::app {
namespace {

using nlohmann::json;

/// The passphrase in `file` (config key `key` names it in errors); none when `file` is empty.
Result<std::optional<std::string>, std::string> passphrase_of(const std::string& file, const char* key)
{
    if (file.empty())
        return std::optional<std::string>{};
    auto pass = crypto::load_passphrase(file);
    if (!pass)
        return Err(std::string(key) + ": " + pass.error());
    return std::optional<std::string>(std::move(*pass));
}

Result<replication::ClientOptions, std::string> client_options(const config::Config& cfg)
{
    const auto& r = cfg.replication;
    replication::ClientOptions o;
    auto up = socket::parse_endpoint(r.upstream, wire::kDefaultPort);
    if (!up)
        return Err("replication.upstream: cannot parse " + r.upstream);
    o.upstream = *up;
    auto key = crypto::load_public_key(r.upstream_key);
    if (!key)
        return Err("replication.upstream_key: " + key.error());
    o.upstream_key = std::move(*key);
    auto admin = replication::parse_admin_spec(r.admin);
    if (!admin)
        return Err("replication.admin: " + admin.error());
    o.admin_handle = admin->handle;
    o.admin_index = admin->index;
    o.auth_type = r.auth;
    if (r.auth == "HS_SECKEY") {
        auto secret = crypto::load_secret(r.admin_key);
        if (!secret)
            return Err("replication.admin_key: " + secret.error());
        o.admin_secret = std::move(*secret);
    } else {
        auto pass = passphrase_of(r.admin_key_passphrase_file, "replication.admin_key_passphrase_file");
        if (!pass)
            return Err(pass.error());
        auto priv = crypto::load_private_key(r.admin_key, *pass);
        if (!priv)
            return Err("replication.admin_key: " + priv.error() +
                       (r.admin_key_passphrase_file.empty() ? " (replication.admin_key_passphrase_file)" : ""));
        o.admin_key = std::move(*priv);
    }
    o.shard = {static_cast<std::uint8_t>(r.hash_type), r.num_servers, r.server_num};
    o.state_file = r.state;
    o.interval_ms = static_cast<int>(r.interval_seconds * 1000);
    o.io_timeout_ms = static_cast<int>(r.timeout_ms);
    o.backoff_min_ms = static_cast<int>(r.backoff_min_ms);
    o.backoff_max_ms = static_cast<int>(r.backoff_max_ms);
    o.allow_signed_blocks = r.allow_signed_blocks;
    return o;
}

Result<replication::ServerOptions, std::string> server_options(const config::Config& cfg)
{
    const auto& s = cfg.replication.serve;
    replication::ServerOptions o;
    o.listen = s.listen;
    auto pass = passphrase_of(s.key_passphrase_file, "replication.serve.key_passphrase_file");
    if (!pass)
        return Err(pass.error());
    auto key = crypto::load_private_key(s.key, *pass);
    if (!key)
        return Err("replication.serve.key: " + key.error() +
                   (s.key_passphrase_file.empty() ? " (replication.serve.key_passphrase_file)" : ""));
    o.server_key = std::move(*key);
    for (const auto& text : s.admins) {
        auto admin = replication::parse_admin_spec(text);
        if (!admin)
            return Err("replication.serve.admins: " + admin.error());
        o.admins.push_back(std::move(*admin));
    }
    o.max_connections = s.max_connections;
    return o;
}

} // namespace

Result<bool, std::string> Daemon::start_replication()
{
    const bool mirror = !cfg_.replication.upstream.empty();
    const bool serve = !cfg_.replication.serve.listen.empty();
    if (!mirror && !serve)
        return true;
    repl_ports_ = std::make_unique<ReplicationPorts>(*this);
    if (serve) {
        auto o = server_options(cfg_);
        if (!o)
            return Err{o.error()};
        repl_server_ = std::make_unique<replication::ReplicationServer>(std::move(*o), *repl_ports_);
        if (auto r = repl_server_->start(); !r)
            return Err{"replication.serve: " + r.error()};
        std::string where;
        for (const auto& e : repl_server_->bound())
            where += (where.empty() ? "" : " ") + e.to_string();
        log::info("replication: serving mirrors on ", where);
    }
    if (mirror) {
        auto o = client_options(cfg_);
        if (!o)
            return Err{o.error()};
        repl_client_ = std::make_unique<replication::ReplicationClient>(std::move(*o), *repl_ports_);
        // Saved state is only as good as the table it describes: with a journal every applied
        // pull is on disk and replayed at start, so the state matches; without one the table
        // restarts from the snapshot or files, which may be older, so a full dump comes first.
        const bool resume = !cfg_.data.journal.empty();
        if (auto r = repl_client_->start(resume); !r)
            return Err{"replication: " + r.error()};
        log::info("replication: mirroring ", cfg_.replication.upstream, resume ? " (resuming saved state)" : " (full dump first)");
    }
    return true;
}

void Daemon::stop_replication()
{
    if (repl_client_)
        repl_client_->stop();
    if (repl_server_)
        repl_server_->stop();
}

std::string Daemon::sync_command(std::string_view args)
{
    if (!repl_client_)
        return "error: sync: this node is not a mirror (replication.upstream is not set)\n";
    if (args == "now") {
        post_event("admin", {{"command", "sync now"}});
        repl_client_->sync_now();
        return "ok\nsync started\n";
    }
    if (args.empty() || args == "status") {
        json j = json::parse(repl_client_->status_json());
        auto proof = repl_client_->sync_status_json();
        j["digest"] = proof ? json::parse(*proof) : json{{"error", proof.error()}};
        return "ok\n" + j.dump(2) + "\n";
    }
    return "error: sync status|now\n";
}

} // namespace idpath::app
