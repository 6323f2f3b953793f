#pragma once
/// The DPDK Port (DESIGN.md section 2): one ethdev (port, queue) pair driven as a worker::Port,
/// the mbuf pool that feeds it, and the setup that configures and starts an ethdev. No DPDK
/// header is included here; rte_mbuf and rte_mempool are only named.
///
/// Thread-safety: one DpdkPort per lcore and queue, driven by that lcore only. Mempool and
/// configure_port() from the main thread, after Eal::init().

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/base/counter.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/worker/port.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace idpath::dpdk {

/// An rte_pktmbuf pool, freed on destruction. It must outlive every port and mbuf using it.
class Mempool {
public:
    /// Mbufs for `queues` queue pairs of the given ring sizes, plus what each of `lcores`
    /// workers may hold at once beyond its rings (a received burst, and at worst
    /// kBurstSize * (kMaxDatagramsPerAnswer - 1) more from alloc() for the further datagrams of
    /// that burst's multi-datagram answers) and its mempool cache (up to 1.5 times its size
    /// before it flushes), rounded up to 2^n - 1 (what rte_mempool sizes best). Sized so RX
    /// refills never starve while every worker is mid-burst.
    static unsigned size_for(unsigned queues, unsigned rx_ring, unsigned tx_ring,
                             unsigned lcores);
    /// `mbufs` mbufs of RTE_MBUF_DEFAULT_BUF_SIZE on `socket` (-1: the caller's). The error
    /// carries rte_strerror's text.
    static Result<std::unique_ptr<Mempool>, std::string> create(const std::string& name,
                                                                unsigned mbufs, int socket = -1);
    ~Mempool();
    Mempool(const Mempool&) = delete;
    Mempool& operator=(const Mempool&) = delete;

    rte_mempool* get() const noexcept { return pool_; }
    /// Mbufs the pool was created with.
    unsigned size() const noexcept { return size_; }
    /// Mbufs free in the pool, per-lcore caches included (size() when nothing leaked).
    unsigned available() const noexcept;

private:
    Mempool(rte_mempool* pool, unsigned size) : pool_(pool), size_(size) {}
    rte_mempool* pool_;
    unsigned size_;
};

/// One (port, queue) pair. cookie is the rte_mbuf*, data its rte_pktmbuf_mtod, capacity the
/// octets from data to the end of the mbuf's data room. Single-segment mbufs only: scattered
/// receives are freed, never handed out. None of the calls allocate, block or throw.
class DpdkPort {
public:
    /// `tx_checksum_offload`: the port was configured with IPv4 and UDP TX checksum offload
    /// (configure_port decides; a DpdkPort built by hand says false unless it knows better).
    DpdkPort(std::uint16_t port_id, std::uint16_t queue, rte_mempool* pool,
             bool tx_checksum_offload = false) noexcept
        : port_id_(port_id), queue_(queue), pool_(pool), tx_offload_(tx_checksum_offload)
    {
    }

    /// Ports move into their DpdkPortSet during setup, before any lcore polls them.
    DpdkPort(DpdkPort&& o) noexcept
        : port_id_(o.port_id_), queue_(o.queue_), pool_(o.pool_), tx_offload_(o.tx_offload_)
    {
        scattered_.add(o.scattered_.get());
    }
    DpdkPort& operator=(DpdkPort&&) = delete;
    DpdkPort(const DpdkPort&) = delete;
    DpdkPort& operator=(const DpdkPort&) = delete;

    /// rx_checksums from the mbuf's RTE_MBUF_F_RX_IP_CKSUM / L4_CKSUM flags: GOOD and NONE
    /// (integrity vouched for, the field possibly not filled in, as virtio does) are Good, BAD
    /// is Bad, UNKNOWN is Unknown; a PMD without RX checksum offload leaves them UNKNOWN.
    std::size_t rx_burst(std::span<worker::PacketRef> burst) noexcept;
    /// Sets each mbuf's data_len and pkt_len from `length`, and its TX checksum offload from
    /// `tx_checksums` (l2_len, l3_len, l4_len 8 and RTE_MBUF_F_TX_IPV4 | IP_CKSUM | UDP_CKSUM or
    /// TX_IPV6 | UDP_CKSUM; no TX offload flag at all for None, so a received mbuf sent back
    /// as-is asks for nothing), then rte_eth_tx_burst. Requests reach it only when
    /// tx_checksum_offload() is true (Worker's contract).
    std::size_t tx_burst(std::span<worker::PacketRef> burst) noexcept;
    /// All or nothing (rte_pktmbuf_alloc_bulk): burst.size() or 0.
    std::size_t alloc(std::span<worker::PacketRef> burst) noexcept;
    void free(std::span<worker::PacketRef> burst) noexcept;

    std::uint16_t port_id() const noexcept { return port_id_; }
    std::uint16_t queue() const noexcept { return queue_; }
    /// True when the NIC completes IPv4 header and UDP checksums (see worker::Port).
    bool tx_checksum_offload() const noexcept { return tx_offload_; }
    /// Multi-segment frames received and freed unseen.
    /// Read from any thread (the admin API); written by the polling lcore only.
    std::uint64_t scattered_dropped() const noexcept { return scattered_.get(); }

private:
    std::uint16_t port_id_;
    std::uint16_t queue_;
    rte_mempool* pool_;
    bool tx_offload_;
    Counter scattered_;
};

static_assert(worker::Port<DpdkPort>);

struct PortConfig {
    std::uint16_t port_id = 0;
    /// RX/TX queue pairs; above one, RSS over IP and UDP spreads flows if the device can.
    std::uint16_t queues = 1;
    std::uint16_t rx_ring = 1024;
    std::uint16_t tx_ring = 1024;
    bool promiscuous = false;
    /// Use the device's IPv4 / UDP checksum offloads where it offers them (RX: verified
    /// checksums reported per mbuf; TX: only when it offers both IPv4 and UDP). False forces
    /// software checksums, e.g. for a NIC whose offload is known to be broken.
    bool checksum_offload = true;
};

/// A configured, started ethdev and one DpdkPort per queue; stopped and closed on destruction.
class DpdkPortSet {
public:
    DpdkPortSet(std::uint16_t port_id, std::string name, std::vector<DpdkPort> queues)
        : port_id_(port_id), name_(std::move(name)), queues_(std::move(queues))
    {
    }
    ~DpdkPortSet();
    DpdkPortSet(const DpdkPortSet&) = delete;
    DpdkPortSet& operator=(const DpdkPortSet&) = delete;

    DpdkPort& queue(std::size_t q) noexcept { return queues_[q]; }
    std::size_t queue_count() const noexcept { return queues_.size(); }
    std::uint16_t port_id() const noexcept { return port_id_; }
    const std::string& name() const noexcept { return name_; }
    /// True when RSS was enabled (queues > 1 and the device hashes IP/UDP).
    bool rss() const noexcept { return rss_; }
    void set_rss(bool on) noexcept { rss_ = on; }
    /// True when RX IPv4 / UDP checksum offload was enabled (either or both).
    bool rx_checksum_offload() const noexcept { return rx_checksum_; }
    /// True when TX IPv4 and UDP checksum offload were enabled; every queue then says so too.
    bool tx_checksum_offload() const noexcept { return tx_checksum_; }
    void set_checksum_offload(bool rx, bool tx) noexcept
    {
        rx_checksum_ = rx;
        tx_checksum_ = tx;
    }

private:
    std::uint16_t port_id_;
    std::string name_;
    std::vector<DpdkPort> queues_;
    bool rss_ = false;
    bool rx_checksum_ = false;
    bool tx_checksum_ = false;
};

/// Configures `c.port_id` (queues, rings, RSS, checksum offloads, promiscuity) with RX buffers
/// from `pool` and starts it. The error names the port and carries rte_strerror's text.
/// A failure before rte_eth_dev_configure leaves the port as it was; one after it stops (if
/// started) and closes the port, as DpdkPortSet's destructor would: nothing stays half set up,
/// and a closed port is released by DPDK, so it cannot be configured again in this process.
Result<std::unique_ptr<DpdkPortSet>, std::string> configure_port(const PortConfig& c,
                                                                 const Mempool& pool);

} // namespace idpath::dpdk
