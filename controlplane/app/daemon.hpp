#pragma once
/// idpathd's composition root: the only place that sees config, loading, the table, the
/// transports and the admin socket together (DESIGN.md section 2).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "controlplane/config/config.hpp"
#include "controlplane/load/jsonl_loader.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::socket {
class UdpServer;
class TcpServer;
} // namespace idpath::socket
namespace idpath::admin {
class AdminServer;
}
namespace idpath::app {
class DpdkMode;
}

namespace idpath::app {

class Daemon {
public:
    explicit Daemon(config::Config cfg);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    /// Loads the table (all or nothing), opens the listeners and the DPDK data plane, then the
    /// admin socket, so an answering admin socket means the daemon is serving.
    /// The error names what failed (file:line for data, endpoint and errno for sockets).
    Result<bool, std::string> start();
    /// Stops the listeners (in-flight batches finish), then the admin socket. Idempotent.
    void stop();

    /// Answers one admin command line (controlplane/admin/admin_server.hpp protocol).
    std::string handle_admin(std::string_view command) const;

private:
    std::string status_json() const;
    std::string stats_json() const;
    std::string lookup_json(std::string_view handle) const;

    config::Config cfg_;
    resolve::Policy policy_;
    std::shared_ptr<const table::Table> table_;
    load::LoadReport load_report_;
    std::unique_ptr<socket::UdpServer> udp_;
    std::unique_ptr<socket::TcpServer> tcp_;
    std::unique_ptr<admin::AdminServer> admin_;
    std::unique_ptr<DpdkMode> dpdk_;
    std::chrono::steady_clock::time_point started_;
};

/// The resolver policy a config implies.
resolve::Policy policy_from(const config::Config& cfg);

} // namespace idpath::app
