#pragma once
/// The TCP transport's event loop (internal to TcpServer; see tcp_server.hpp for the policy).
/// Thread-safety: run() on one thread; everything else belongs to that thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/querylog/fill.hpp"
#include "dataplane/querylog/query_log.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/responder.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/envelope.hpp"
#include "drivers/socket/tcp_punt.hpp"
#include "drivers/socket/tcp_server.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::socket {

class TcpLoop {
public:
    /// Takes the listening sockets; `wake_fd` becomes readable when `stopping` is set.
    /// `query_log` (possibly disabled) gets a record per complete request.
    TcpLoop(const TcpServerOptions& options, resolve::PolicyRef policy,
            const TableSource& table_source, std::vector<UniqueFd> listeners, int wake_fd,
            const std::atomic<bool>& stopping, resolve::ResolveStats& resolve_stats,
            TcpStats& tcp_stats, querylog::QueryLog& query_log);
    ~TcpLoop();
    TcpLoop(const TcpLoop&) = delete;
    TcpLoop& operator=(const TcpLoop&) = delete;

    /// Registers the sockets with a new epoll instance; false (errno set) on failure.
    bool init() noexcept;
    /// Registers the loop as reader `id` of `reclaimer` (offline while in epoll_wait, online
    /// while handling events); call before run().
    void set_reclaimer(Reclaimer* reclaimer, unsigned id) noexcept
    {
        reclaimer_ = reclaimer;
        reader_id_ = id;
    }
    /// Serves until `stopping` is set, then closes every connection.
    void run() noexcept;

private:
    struct Connection;
    /// An intrusive list of connections through Connection::prev/next, oldest deadline first.
    struct List {
        std::uint32_t head;
        std::uint32_t tail;
    };

    void accept_from(int listener) noexcept;
    void admit(UniqueFd fd, const sockaddr_storage& peer) noexcept;
    void on_event(std::uint64_t tag, std::uint32_t events) noexcept;
    void read_from(Connection& c) noexcept;
    void process_frames(Connection& c) noexcept;
    bool handle_frame(Connection& c) noexcept;
    bool claim_miss() noexcept;
    void punt(Connection& c, const wire::Envelope& envelope, ByteSpan message) noexcept;
    void on_replies() noexcept;
    void send_reply(Connection& c, ByteSpan reply) noexcept;
    void log_query(const Connection& c, const resolve::Outcome& outcome, bool answered) noexcept;
    void write_out(Connection& c) noexcept;
    void update_interest(Connection& c) noexcept;
    void close(Connection& c, Counter& reason) noexcept;
    void touch(Connection& c) noexcept;
    void link(Connection& c, List& list, std::uint64_t deadline_ms) noexcept;
    void unlink(Connection& c) noexcept;
    Connection* oldest() noexcept;
    void sweep(std::uint64_t now_ms) noexcept;
    int poll_timeout(std::uint64_t now_ms) const noexcept;

    const TcpServerOptions& options_;
    const TableSource& table_source_;
    std::vector<UniqueFd> listeners_;
    int wake_fd_;
    const std::atomic<bool>& stopping_;
    TcpStats& stats_;
    querylog::QueryLog& log_;
    std::uint64_t rx_ns_ = 0; // when the current epoll_wait returned, for the query log
    resolve::Responder responder_;
    const table::Table empty_table_;
    const table::Table* table_ = nullptr; // fetched once per loop iteration
    Reclaimer* reclaimer_ = nullptr;
    unsigned reader_id_ = 0;
    std::uint64_t now_ms_ = 0;
    std::uint32_t now_unix_ = 0;

    UniqueFd epoll_;
    UniqueFd spare_; // given up to accept-and-close when the process runs out of descriptors
    std::vector<std::unique_ptr<Connection>> slots_;
    std::vector<std::uint32_t> free_;
    std::size_t open_ = 0;
    // Least recently active first: the idle sweep and the eviction both take from the head.
    List lru_;
    // Connections waiting for a resolver's reply, oldest punt first: out of the idle sweep's
    // reach, closed by the punt timeout instead.
    List awaiting_;

    // Recursive role (null: none). The loop is the misses' only producer; it holds one claimed
    // slot ahead, so whether a miss can be punted is known before the Responder decides.
    TcpPuntQueue* punts_;
    TcpMiss* next_miss_ = nullptr;
    std::vector<TcpReply> replies_; // taken from punts_, reused
};

} // namespace idpath::socket
