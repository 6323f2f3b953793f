#pragma once
/// The kernel-socket UDP transport: recvmmsg -> resolve::Responder -> sendmmsg, one thread per
/// socket, SO_REUSEPORT spreading clients over the sockets of an endpoint.
///
/// Ownership: the server owns its sockets and threads; `policy` and whatever `table_source`
/// returns must outlive it (or, for tables, stay valid until every thread has moved past the
/// batch it was returned for). Thread-safety: start(), stop(), bound() and the destructor from
/// one control thread; stats() from any thread once start() succeeded (counters are relaxed
/// atomics). `table_source` is called concurrently by every serving thread, once per batch.
///
/// Table generations: with `options.reclaimer` set, every serving thread registers with it and
/// is online only while handling a batch (offline while blocked in poll), so after the owner
/// swaps the table `table_source` returns, Reclaimer::synchronize() tells when the old one may
/// be freed.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/base/qsbr.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/querylog/query_log.hpp"
#include "dataplane/querylog/probe.hpp"
#include "dataplane/querylog/target.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/table.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/miss_ring.hpp"
#include "drivers/socket/socket_setup.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::socket {

/// The table to serve right now, or nullptr (then every query is answered from an empty table).
using TableSource = std::function<const table::Table*()>;

struct UdpServerOptions {
    /// Addresses to serve; port 0 lets the kernel choose (see UdpServer::bound()).
    std::vector<Endpoint> listen;
    /// Sockets (and threads) per endpoint; the kernel spreads clients over them by 4-tuple hash.
    unsigned threads_per_socket = 1;
    /// Datagrams per recvmmsg call (1..1024).
    std::size_t batch = 32;
    SocketTuning tuning{};
    /// Optional; must outlive the server and have room for one reader per serving thread.
    Reclaimer* reclaimer = nullptr;
    /// Query log (dataplane/querylog): the ring and source of each serving thread, in thread
    /// order (listen order, threads_per_socket threads per endpoint, listen.size() x
    /// threads_per_socket in all). Threads without an entry, or with a null ring, log nothing.
    std::vector<querylog::Target> query_logs;
    /// Probe (dataplane/querylog/probe.hpp): each serving thread's probe ring, in the same
    /// order; requests and replies are captured as IP packets with synthesized headers.
    std::vector<querylog::ProbeTarget> probes;
    /// Recursive role (docs/recursion.md): each serving thread's miss ring, in the same order;
    /// they must outlive the server. Threads without one (or with null) never punt.
    std::vector<MissRing*> miss_rings;
};

class UdpWorker;

class UdpServer {
public:
    UdpServer(UdpServerOptions options, resolve::PolicyRef policy, TableSource table_source);
    /// Stops and joins the threads.
    ~UdpServer();
    UdpServer(const UdpServer&) = delete;
    UdpServer& operator=(const UdpServer&) = delete;

    /// Binds every endpoint (threads_per_socket sockets each, all on the port the first one got)
    /// and starts one thread per socket. On error nothing keeps running and the text names the
    /// endpoint and errno. Call once.
    Result<bool, std::string> start();
    /// Wakes every thread (an eventfd they poll) and joins them; returns within about one batch.
    /// Idempotent.
    void stop();

    /// One entry per serving thread, valid until the server is destroyed.
    std::vector<const resolve::ResolveStats*> stats() const;
    /// Each serving thread's query-log counters (produced, lost), in thread order; valid until
    /// the server is destroyed. All zero for a thread that logs nothing.
    std::vector<const querylog::QueryLogStats*> query_log_stats() const;
    /// Each serving thread's probe counters, in thread order; valid until the server is destroyed.
    std::vector<const querylog::ProbeStats*> probe_stats() const;
    /// The bound address of each endpoint, in `listen` order (port 0 replaced by the real port).
    std::vector<Endpoint> bound() const;

private:
    UdpServerOptions options_;
    resolve::PolicyRef policy_;
    TableSource table_source_;
    UniqueFd wake_;
    std::atomic<bool> stopping_{false};
    bool started_ = false;
    std::vector<Endpoint> bound_;
    std::vector<std::unique_ptr<UdpWorker>> workers_;
    std::vector<std::thread> threads_;
};

} // namespace idpath::socket
