#include "drivers/dpdk/dpdk_port.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_udp.h>

#include <algorithm>
#include <array>
#include <limits>

#include "dataplane/worker/worker.hpp"

namespace idpath::dpdk {
namespace {

constexpr unsigned kCacheSize = 256;
constexpr std::uint64_t kRssTypes = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
constexpr std::uint64_t kRxChecksums = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
constexpr std::uint64_t kTxChecksums = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
constexpr std::uint64_t kTxIpv4Udp =
    RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
constexpr std::uint64_t kTxIpv6Udp = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;

// The Port concept's spans may exceed a burst (the worker's TX staging holds every datagram
// of a burst's answers), so the mbuf pointers are marshalled a burst at a time on the stack.
using MbufChunk = std::array<rte_mbuf*, worker::kBurstSize>;

std::uint16_t capacity_of(const rte_mbuf* m) noexcept
{
    const unsigned room = rte_pktmbuf_tailroom(m) + m->data_len;
    return static_cast<std::uint16_t>(
        std::min<unsigned>(room, std::numeric_limits<std::uint16_t>::max()));
}

worker::PacketRef ref_of(rte_mbuf* m) noexcept
{
    return {rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len, capacity_of(m), m};
}

/// One of the RX checksum fields of ol_flags, already masked: BAD, GOOD, NONE or UNKNOWN (0).
packet::ChecksumStatus rx_status(std::uint64_t flags, std::uint64_t bad,
                                 std::uint64_t good) noexcept
{
    if (flags == bad)
        return packet::ChecksumStatus::Bad;
    // NONE (both bits) vouches for the data while the field may not be filled in (virtio with
    // a partial checksum): a software check would wrongly fail it.
    if (flags == good || flags == (good | bad))
        return packet::ChecksumStatus::Good;
    return packet::ChecksumStatus::Unknown;
}

packet::ChecksumHint rx_checksums_of(const rte_mbuf* m) noexcept
{
    return {rx_status(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_BAD,
                      RTE_MBUF_F_RX_IP_CKSUM_GOOD),
            rx_status(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_BAD,
                      RTE_MBUF_F_RX_L4_CKSUM_GOOD)};
}

/// The mbuf's TX offload fields for `c`. Every TX offload flag is cleared first: a received
/// mbuf may be sent back (a local reply, the exception path) and must ask for nothing unless
/// the worker says so. l4_len is not needed for checksum offload alone, but some PMDs read it
/// (net_tap sized the L4 header from it until a 2023 fix, absent from early 22.11 stable
/// releases), so the UDP header's size is given.
void set_tx_offload(rte_mbuf* m, packet::TxChecksums c) noexcept
{
    m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
    if (c.offload == packet::TxOffload::None)
        return;
    m->l2_len = c.l2_len;
    m->l3_len = c.l3_len;
    m->l4_len = sizeof(rte_udp_hdr);
    m->ol_flags |= c.offload == packet::TxOffload::Ipv4Udp ? kTxIpv4Udp : kTxIpv6Udp;
}

std::string port_name(std::uint16_t port)
{
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    if (rte_eth_dev_get_name_by_port(port, name) != 0)
        return "port " + std::to_string(port);
    return name;
}

Err<std::string> port_error(const std::string& name, const char* what, int rc)
{
    return Err{name + ": " + what + ": " + rte_strerror(rc < 0 ? -rc : rc)};
}

} // namespace

unsigned Mempool::size_for(unsigned queues, unsigned rx_ring, unsigned tx_ring, unsigned lcores)
{
    // Per lcore: the received burst plus, at worst, every one of its requests answered with
    // kMaxDatagramsPerAnswer datagrams; and a cache that flushes above 1.5 times its size.
    constexpr unsigned kInFlight = unsigned(worker::kBurstSize * worker::kMaxDatagramsPerAnswer);
    const unsigned want =
        queues * (rx_ring + tx_ring) + lcores * (kInFlight + kCacheSize * 3 / 2);
    unsigned n = 1;
    while (n - 1 < want)
        n <<= 1;
    return n - 1;
}

Result<std::unique_ptr<Mempool>, std::string> Mempool::create(const std::string& name,
                                                              unsigned mbufs, int socket)
{
    // A cache larger than a pool's n / 1.5 is refused; tiny pools go uncached.
    const unsigned cache = mbufs >= kCacheSize * 3 / 2 ? kCacheSize : 0;
    rte_mempool* p = rte_pktmbuf_pool_create(name.c_str(), mbufs, cache, 0,
                                             RTE_MBUF_DEFAULT_BUF_SIZE,
                                             socket < 0 ? int(rte_socket_id()) : socket);
    if (p == nullptr)
        return Err{"mempool " + name + ": " + rte_strerror(rte_errno)};
    return std::unique_ptr<Mempool>(new Mempool(p, mbufs));
}

Mempool::~Mempool()
{
    rte_mempool_free(pool_);
}

unsigned Mempool::available() const noexcept
{
    return rte_mempool_avail_count(pool_);
}

std::size_t DpdkPort::rx_burst(std::span<worker::PacketRef> burst) noexcept
{
    MbufChunk mbufs;
    const auto want = static_cast<std::uint16_t>(std::min(burst.size(), mbufs.size()));
    const std::uint16_t got = rte_eth_rx_burst(port_id_, queue_, mbufs.data(), want);
    std::size_t n = 0;
    for (std::uint16_t i = 0; i < got; ++i) {
        rte_mbuf* m = mbufs[i];
        if (m->nb_segs != 1) {
            scattered_.add();
            rte_pktmbuf_free(m);
            continue;
        }
        worker::PacketRef& r = burst[n++];
        r = ref_of(m);
        r.rx_checksums = rx_checksums_of(m);
    }
    return n;
}

std::size_t DpdkPort::tx_burst(std::span<worker::PacketRef> burst) noexcept
{
    MbufChunk mbufs;
    std::size_t sent = 0;
    while (sent < burst.size()) {
        const std::size_t n = std::min(burst.size() - sent, mbufs.size());
        for (std::size_t i = 0; i < n; ++i) {
            const worker::PacketRef& r = burst[sent + i];
            auto* m = static_cast<rte_mbuf*>(r.cookie);
            m->data_len = r.length;
            m->pkt_len = r.length;
            set_tx_offload(m, r.tx_checksums);
            mbufs[i] = m;
        }
        const std::uint16_t took =
            rte_eth_tx_burst(port_id_, queue_, mbufs.data(), static_cast<std::uint16_t>(n));
        sent += took;
        if (took < n)
            break;
    }
    return sent;
}

std::size_t DpdkPort::alloc(std::span<worker::PacketRef> burst) noexcept
{
    MbufChunk mbufs;
    std::size_t done = 0;
    while (done < burst.size()) {
        const std::size_t n = std::min(burst.size() - done, mbufs.size());
        if (rte_pktmbuf_alloc_bulk(pool_, mbufs.data(), static_cast<unsigned>(n)) != 0) {
            free(burst.first(done));
            return 0;
        }
        for (std::size_t i = 0; i < n; ++i)
            burst[done + i] = ref_of(mbufs[i]);
        done += n;
    }
    return done;
}

void DpdkPort::free(std::span<worker::PacketRef> burst) noexcept
{
    MbufChunk mbufs;
    for (std::size_t done = 0; done < burst.size();) {
        const std::size_t n = std::min(burst.size() - done, mbufs.size());
        for (std::size_t i = 0; i < n; ++i)
            mbufs[i] = static_cast<rte_mbuf*>(burst[done + i].cookie);
        rte_pktmbuf_free_bulk(mbufs.data(), static_cast<unsigned>(n));
        done += n;
    }
}

DpdkPortSet::~DpdkPortSet()
{
    rte_eth_dev_stop(port_id_);
    rte_eth_dev_close(port_id_);
}

Result<std::unique_ptr<DpdkPortSet>, std::string> configure_port(const PortConfig& c,
                                                                 const Mempool& pool)
{
    const std::string name = port_name(c.port_id);
    if (!rte_eth_dev_is_valid_port(c.port_id))
        return Err{name + ": no such port"};
    if (c.queues == 0)
        return Err{name + ": no queues asked for"};
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(c.port_id, &info); rc != 0)
        return port_error(name, "rte_eth_dev_info_get", rc);
    if (c.queues > info.max_rx_queues || c.queues > info.max_tx_queues)
        return Err{name + ": " + std::to_string(c.queues) + " queues asked for, device has " +
                   std::to_string(std::min(info.max_rx_queues, info.max_tx_queues))};

    rte_eth_conf conf{};
    const std::uint64_t rss_types = info.flow_type_rss_offloads & kRssTypes;
    const bool rss = c.queues > 1 && rss_types != 0;
    if (rss) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = nullptr; // the driver's default key
        conf.rx_adv_conf.rss_conf.rss_hf = rss_types;
    }
    // RX: whichever of the two the device verifies. TX: both or neither, so a UDP reply's
    // checksums are either all the NIC's or all ours (one mode per port, see worker::Port).
    if (c.checksum_offload) {
        conf.rxmode.offloads |= info.rx_offload_capa & kRxChecksums;
        if ((info.tx_offload_capa & kTxChecksums) == kTxChecksums)
            conf.txmode.offloads |= kTxChecksums;
    }
    const bool rx_checksum = conf.rxmode.offloads != 0;
    const bool tx_checksum = conf.txmode.offloads != 0;
    if (int rc = rte_eth_dev_configure(c.port_id, c.queues, c.queues, &conf); rc != 0)
        return port_error(name, "rte_eth_dev_configure", rc);

    // From here on the port is configured: every failure closes it (stopping it first once
    // started), so no path leaves queues or a started device behind.
    struct Undo {
        std::uint16_t port;
        bool started = false;
        bool armed = true;
        ~Undo()
        {
            if (!armed)
                return;
            if (started)
                rte_eth_dev_stop(port);
            rte_eth_dev_close(port);
        }
    } undo{c.port_id};

    std::uint16_t rx_ring = c.rx_ring;
    std::uint16_t tx_ring = c.tx_ring;
    if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(c.port_id, &rx_ring, &tx_ring); rc != 0)
        return port_error(name, "rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    const int socket = rte_eth_dev_socket_id(c.port_id);
    const unsigned sock = socket < 0 ? SOCKET_ID_ANY : unsigned(socket);
    std::vector<DpdkPort> queues;
    queues.reserve(c.queues);
    for (std::uint16_t q = 0; q < c.queues; ++q) {
        if (int rc = rte_eth_rx_queue_setup(c.port_id, q, rx_ring, sock, nullptr, pool.get());
            rc != 0)
            return port_error(name, "rte_eth_rx_queue_setup", rc);
        if (int rc = rte_eth_tx_queue_setup(c.port_id, q, tx_ring, sock, nullptr); rc != 0)
            return port_error(name, "rte_eth_tx_queue_setup", rc);
        queues.emplace_back(c.port_id, q, pool.get(), tx_checksum);
    }
    if (int rc = rte_eth_dev_start(c.port_id); rc != 0)
        return port_error(name, "rte_eth_dev_start", rc);
    undo.started = true;
    // Some PMDs cannot change promiscuity (-ENOTSUP); only a refusal to turn it on matters.
    const int prc = c.promiscuous ? rte_eth_promiscuous_enable(c.port_id)
                                  : rte_eth_promiscuous_disable(c.port_id);
    if (prc != 0 && (c.promiscuous || prc != -ENOTSUP))
        return port_error(name, c.promiscuous ? "rte_eth_promiscuous_enable"
                                              : "rte_eth_promiscuous_disable", prc);
    auto set = std::make_unique<DpdkPortSet>(c.port_id, name, std::move(queues));
    undo.armed = false; // the set's destructor stops and closes from now on
    set->set_rss(rss);
    set->set_checksum_offload(rx_checksum, tx_checksum);
    return set;
}

} // namespace idpath::dpdk
