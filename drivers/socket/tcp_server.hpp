#pragma once
/// The kernel-socket TCP transport: one epoll thread serving every connection with non-blocking
/// sockets, framing by tcp_framer.hpp, answers by resolve::Responder::on_tcp.
///
/// Hostile clients are expected (DESIGN.md section 3): connections are bounded in number (at
/// the limit a new connection evicts the least recently active one), in time (a connection that
/// completes no request within idle_timeout_ms, idle or trickling, is closed) and in memory
/// (one frame of input, one reply of output, one message being reassembled). A client that does
/// not read its replies is not read from either. Nothing a connection does blocks the others.
///
/// Ownership and thread-safety as for UdpServer (udp_server.hpp): start(), stop(), bound() from
/// one control thread; stats() and tcp_stats() readable from any thread after start().
/// With `options.reclaimer` the thread registers as one reader, offline while in epoll_wait.
/// With `options.query_log` every complete request gets a record (dataplane/querylog), written
/// while the events of one epoll_wait are handled and published after them.
/// With `options.punts` (recursive role) a miss with REC set waits for a resolver thread's reply
/// (docs/recursion.md); the connection handles no further request until that reply is written.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/base/counter.hpp"
#include "dataplane/base/qsbr.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/querylog/query_log.hpp"
#include "dataplane/querylog/target.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/stats.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/socket_setup.hpp"
#include "drivers/socket/udp_server.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::socket {

class TcpPuntQueue;

struct TcpServerOptions {
    std::vector<Endpoint> listen;
    /// Open connections at most; a new one beyond this evicts the least recently active.
    std::size_t max_connections = 1024;
    /// A connection that completes no request for this long is closed.
    std::uint32_t idle_timeout_ms = 10000;
    /// Largest MessageLength accepted; a frame announcing more closes the connection.
    std::size_t max_message = 262144;
    /// Accepted sockets inherit these; 0 keeps the kernel's autotuned buffers, which is what
    /// many mostly idle connections want.
    SocketTuning tuning{0, 0, false, 1024};
    /// Optional; must outlive the server and have room for one more reader.
    Reclaimer* reclaimer = nullptr;
    /// The serving thread's query-log ring and source (a null ring: nothing logged).
    querylog::Target query_log{};
    /// Recursive role: misses with REC set go to the resolver threads through this queue
    /// (tcp_punt.hpp) and the connection waits for the reply. Optional; must outlive the server.
    TcpPuntQueue* punts = nullptr;
    /// A connection waiting this long for a resolver's reply is closed. Longer than one upstream
    /// question's worst case with the default recursion timeouts (2 UDP tries x 1 s, then 5 s
    /// over TCP: 7 s); a resolution that sits out timeouts at several referral levels can take
    /// longer, and its client then reconnects and asks again.
    std::uint32_t punt_timeout_ms = 10000;
};

/// What the TCP transport did with connections. Written by the serving thread only.
struct alignas(kCacheLine) TcpStats {
    Counter accepted;
    Counter accept_errors;    // accept4 or epoll registration failed
    Counter closed_by_peer;   // EOF from the client
    Counter closed_idle;      // no complete request within the idle timeout (idle or trickling)
    Counter closed_limit;     // evicted to admit a new connection at max_connections
    Counter closed_malformed; // bad envelope, MessageLength < 24, bad chunk, unanswerable
    Counter closed_oversize;  // MessageLength above max_message
    Counter closed_error;     // read or write error (reset, ...)
    Counter closed_shutdown;  // open when the server stopped
    Counter requests;         // complete messages handed to the Responder
    Counter chunks;           // TC frames received (multi-envelope messages)
    Counter output_stalls;    // times reading paused because the client was not reading replies
    Counter closed_punt_timeout; // waited punt_timeout_ms for a resolver's reply that never came
    Counter punt_replies_stale;  // resolver replies for a connection closed (or reused) since

    struct Named {
        const char* name;
        const Counter* counter;
    };
    /// Every counter with a stable snake_case name, for the admin API and metrics.
    std::array<Named, 14> named() const noexcept
    {
        return {{{"accepted", &accepted},
                 {"accept_errors", &accept_errors},
                 {"closed_by_peer", &closed_by_peer},
                 {"closed_idle", &closed_idle},
                 {"closed_limit", &closed_limit},
                 {"closed_malformed", &closed_malformed},
                 {"closed_oversize", &closed_oversize},
                 {"closed_error", &closed_error},
                 {"closed_shutdown", &closed_shutdown},
                 {"requests", &requests},
                 {"chunks", &chunks},
                 {"output_stalls", &output_stalls},
                 {"closed_punt_timeout", &closed_punt_timeout},
                 {"punt_replies_stale", &punt_replies_stale}}};
    }

    /// Connections open now (accepted minus closed; exact once the thread is idle).
    std::uint64_t open() const noexcept
    {
        return accepted.get() - closed_by_peer.get() - closed_idle.get() - closed_limit.get() -
               closed_malformed.get() - closed_oversize.get() - closed_error.get() -
               closed_shutdown.get() - closed_punt_timeout.get();
    }
};

class TcpLoop;

class TcpServer {
public:
    TcpServer(TcpServerOptions options, resolve::PolicyRef policy, TableSource table_source);
    ~TcpServer();
    TcpServer(const TcpServer&) = delete;
    TcpServer& operator=(const TcpServer&) = delete;

    /// Binds and listens on every endpoint, then starts the thread. Errors name the endpoint
    /// and errno; on error nothing keeps running. Call once.
    Result<bool, std::string> start();
    /// Wakes the thread, closes every connection and joins. Idempotent.
    void stop();

    /// The serving thread's resolver counters (one entry).
    std::vector<const resolve::ResolveStats*> stats() const;
    const TcpStats& tcp_stats() const noexcept;
    /// The serving thread's query-log counters (produced, lost); valid for the server's life.
    const querylog::QueryLogStats& query_log_stats() const noexcept { return query_log_.stats(); }
    /// The bound address of each endpoint, in `listen` order.
    std::vector<Endpoint> bound() const;

private:
    TcpServerOptions options_;
    resolve::PolicyRef policy_;
    TableSource table_source_;
    UniqueFd wake_;
    std::atomic<bool> stopping_{false};
    bool started_ = false;
    std::vector<Endpoint> bound_;
    resolve::ResolveStats resolve_stats_;
    TcpStats tcp_stats_;
    /// Written by the serving thread only; here so its counters outlive the loop.
    querylog::QueryLog query_log_;
    std::unique_ptr<TcpLoop> loop_;
    std::thread thread_;
};

} // namespace idpath::socket
