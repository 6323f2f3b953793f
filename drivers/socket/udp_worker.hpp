#pragma once
/// One UDP serving thread's state and loop (internal to UdpServer; see udp_server.hpp).
///
/// Per batch: one recvmmsg, one table_source() call, one Responder::on_udp per datagram, the
/// replies copied into a transmit arena, one sendmmsg. No allocation, lock or log per packet.
/// With a Reclaimer the thread is offline while in poll() and reports a quiescent state after
/// each batch (no table pointer is kept across batches). With a query log, each request the
/// batch completed gets a record in the thread's ring, published after the batch's sendmmsg.
/// Thread-safety: run() on its own thread; stats() readable from any thread.

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/qsbr.hpp"
#include "dataplane/querylog/fill.hpp"
#include "dataplane/querylog/probe.hpp"
#include "dataplane/querylog/query_log.hpp"
#include "dataplane/querylog/target.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/responder.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/constants.hpp"
#include "drivers/socket/miss_ring.hpp"
#include "drivers/socket/udp_server.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::socket {

class UdpWorker {
public:
    /// `pktinfo`: the socket is bound to a wildcard address; replies must leave from the address
    /// each query was sent to. `wake_fd` becomes readable when `stopping` is set. `log`: where
    /// this thread's query records go (a null ring: nowhere); `probe`: where its sampled
    /// requests and replies go, as IP packets (a null ring: nowhere). `misses`: where requests
    /// the table cannot answer go in the recursive role (null: answered from the table alone).
    UdpWorker(UniqueFd fd, bool pktinfo, std::size_t batch, resolve::PolicyRef policy,
              const TableSource& table_source, int wake_fd, const std::atomic<bool>& stopping,
              querylog::Target log = {}, querylog::ProbeTarget probe = {},
              MissRing* misses = nullptr);
    ~UdpWorker();
    UdpWorker(const UdpWorker&) = delete;
    UdpWorker& operator=(const UdpWorker&) = delete;

    /// Registers this worker as reader `id` of `reclaimer`; call before run().
    void set_reclaimer(Reclaimer* reclaimer, unsigned id) noexcept
    {
        reclaimer_ = reclaimer;
        reader_id_ = id;
    }
    /// Serves until `stopping` is set.
    void run() noexcept;
    /// Closes the socket; call only after run() has returned.
    void close_socket() noexcept { fd_.reset(); }
    const resolve::ResolveStats& stats() const noexcept { return stats_; }
    const querylog::QueryLogStats& query_log_stats() const noexcept { return log_.stats(); }
    const querylog::ProbeStats& probe_stats() const noexcept { return probe_.stats(); }

    /// Receive slot: a datagram larger than this is cut and then rejected by the codec.
    static constexpr std::size_t kRxSlotSize = 2048;
    /// Room for one IP_PKTINFO or IPV6_PKTINFO control message.
    static constexpr std::size_t kControlSize = 64;

private:
    struct RxSlot;
    struct TxSlot;

    void drain() noexcept;
    void handle_batch(unsigned count) noexcept;
    void prepare_reply_control(RxSlot& slot, const msghdr& received) noexcept;
    void log_query(const msghdr& received, const wire::SourceKey& client,
                   const resolve::Outcome& outcome, std::uint32_t datagrams,
                   std::uint64_t rx_ns) noexcept;
    querylog::Peer peer_of(const msghdr& received, const wire::SourceKey& client) const noexcept;
    querylog::ProbeUdpPeers probe_peers(const msghdr& received, const wire::SourceKey& client) const noexcept;
    void queue(const RxSlot& to, ByteSpan head, ByteSpan tail) noexcept;
    void punt(RxSlot& slot, const msghdr& received, const wire::SourceKey& client, std::size_t length,
              std::uint64_t rx_ns, bool probed) noexcept;
    void flush() noexcept;

    UniqueFd fd_;
    bool pktinfo_;
    std::size_t batch_;
    const TableSource& table_source_;
    int wake_fd_;
    const std::atomic<bool>& stopping_;
    resolve::ResolveStats stats_;
    resolve::Responder responder_;
    const table::Table empty_table_;
    Reclaimer* reclaimer_ = nullptr;
    unsigned reader_id_ = 0;

    std::vector<RxSlot> rx_;
    std::vector<mmsghdr> rx_msgs_;
    std::vector<iovec> rx_iov_;
    std::vector<TxSlot> tx_;
    std::vector<mmsghdr> tx_msgs_;
    std::vector<iovec> tx_iov_;
    std::size_t tx_count_ = 0;
    std::uint64_t next_expire_ms_ = 0;
    querylog::QueryLog log_;
    querylog::Probe probe_;
    /// The socket's own address: a query's server end unless IP(V6)_PKTINFO says better.
    querylog::Peer local_;
    MissRing* misses_ = nullptr;
};

} // namespace idpath::socket
