#include "drivers/socket/udp_worker.hpp"

#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dataplane/querylog/clock.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/clock.hpp"
#include "drivers/socket/socket_setup.hpp"

namespace idpath::socket {

namespace {

// Long enough to cost nothing when idle, short enough that expiry of half-reassembled requests
// runs on time; stop() does not depend on it (the wake eventfd does).
constexpr int kPollTimeoutMs = 500;
constexpr std::uint64_t kExpireIntervalMs = 500;
// A batch of replies usually fits; when it does not, the arena is flushed early (see queue()).
constexpr std::size_t kTxArenaMinimum = 64;

/// The destination address of a received datagram, from its IP_PKTINFO or IPV6_PKTINFO (IPv4
/// as ::ffff:a.b.c.d, as a dual-stack socket reports it); false when it has neither.
bool destination_of(const msghdr& received, std::array<std::uint8_t, 16>& address) noexcept
{
    for (const cmsghdr* c = CMSG_FIRSTHDR(&received); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&received), const_cast<cmsghdr*>(c))) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo in;
            std::memcpy(&in, CMSG_DATA(c), sizeof in);
            address = {};
            address[10] = address[11] = 0xff;
            std::memcpy(address.data() + 12, &in.ipi_addr, 4);
            return true;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo in;
            std::memcpy(&in, CMSG_DATA(c), sizeof in);
            std::memcpy(address.data(), &in.ipi6_addr, 16);
            return true;
        }
    }
    return false;
}

} // namespace

struct UdpWorker::RxSlot {
    std::array<std::uint8_t, kRxSlotSize> data;
    sockaddr_storage peer;
    alignas(cmsghdr) std::array<std::uint8_t, kControlSize> control;
    alignas(cmsghdr) std::array<std::uint8_t, kControlSize> reply_control;
    std::size_t reply_control_length;
    socklen_t peer_length;
};

struct UdpWorker::TxSlot {
    std::array<std::uint8_t, wire::kMaxUdpDatagram> data;
};

UdpWorker::UdpWorker(UniqueFd fd, bool pktinfo, std::size_t batch, resolve::PolicyRef policy,
                     const TableSource& table_source, int wake_fd,
                     const std::atomic<bool>& stopping, querylog::Target log,
                     querylog::ProbeTarget probe, MissRing* misses)
    : fd_(std::move(fd)),
      pktinfo_(pktinfo),
      batch_(batch),
      table_source_(table_source),
      wake_fd_(wake_fd),
      stopping_(stopping),
      responder_(policy, stats_),
      rx_(batch),
      rx_msgs_(batch),
      rx_iov_(batch),
      tx_(std::max(batch * 2, kTxArenaMinimum)),
      tx_msgs_(tx_.size()),
      tx_iov_(tx_.size()),
      log_(log.ring, log.source, log.heartbeat_ns),
      probe_(probe),
      misses_(misses)
{
    responder_.set_can_punt(misses_ != nullptr);
    if (const auto local = local_endpoint(fd_.get())) {
        const wire::SourceKey k = source_key(*local);
        local_.server = k.address;
        local_.server_port = k.port;
    }
}

UdpWorker::~UdpWorker() = default;

void UdpWorker::run() noexcept
{
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    next_expire_ms_ = monotonic_ms() + kExpireIntervalMs;
    while (!stopping_.load(std::memory_order_acquire)) {
        const int ready = ::poll(fds, 2, kPollTimeoutMs);
        if (ready > 0 && (fds[0].revents & POLLIN)) {
            if (reclaimer_ != nullptr)
                reclaimer_->online(reader_id_);
            drain();
            if (reclaimer_ != nullptr)
                reclaimer_->offline(reader_id_);
        }
        const std::uint64_t now = monotonic_ms();
        if (now >= next_expire_ms_) {
            responder_.expire(now);
            next_expire_ms_ = now + kExpireIntervalMs;
        }
        if (log_.enabled())
            log_.poll_idle(querylog::realtime_ns());
    }
}

void UdpWorker::drain() noexcept
{
    while (!stopping_.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < batch_; ++i) {
            RxSlot& s = rx_[i];
            rx_iov_[i] = {s.data.data(), s.data.size()};
            msghdr& h = rx_msgs_[i].msg_hdr;
            h.msg_name = &s.peer;
            h.msg_namelen = sizeof s.peer;
            h.msg_iov = &rx_iov_[i];
            h.msg_iovlen = 1;
            h.msg_control = pktinfo_ ? s.control.data() : nullptr;
            h.msg_controllen = pktinfo_ ? s.control.size() : 0;
            h.msg_flags = 0;
            rx_msgs_[i].msg_len = 0;
        }
        const int n = ::recvmmsg(fd_.get(), rx_msgs_.data(), static_cast<unsigned>(batch_),
                                 MSG_DONTWAIT, nullptr);
        if (n <= 0)
            return; // EAGAIN: drained; anything else: poll() again
        handle_batch(static_cast<unsigned>(n));
        if (reclaimer_ != nullptr)
            reclaimer_->quiescent(reader_id_);
        if (static_cast<std::size_t>(n) < batch_)
            return;
    }
}

void UdpWorker::handle_batch(unsigned count) noexcept
{
    const table::Table* table = table_source_();
    if (table == nullptr)
        table = &empty_table_;
    const std::uint32_t now_unix = unix_seconds();
    const std::uint64_t now_ms = monotonic_ms();
    const std::uint64_t rx_ns =
        log_.enabled() || probe_.enabled() ? querylog::realtime_ns() : 0;

    for (unsigned i = 0; i < count; ++i) {
        RxSlot& slot = rx_[i];
        const msghdr& h = rx_msgs_[i].msg_hdr;
        slot.peer_length = h.msg_namelen;
        const std::size_t length = std::min<std::size_t>(rx_msgs_[i].msg_len, slot.data.size());
        const wire::SourceKey client = source_key(slot.peer);
        // Captured here, not in queue(): the request is captured whether answered or not.
        const bool probed = probe_.sample();
        querylog::ProbeUdpPeers peers;
        if (probed) {
            peers = probe_peers(h, client);
            querylog::capture_udp(probe_, rx_ns, querylog::ProbeDirection::Request, peers,
                                  ByteSpan{slot.data.data(), length});
            std::swap(peers.src, peers.dst);
            std::swap(peers.src_port, peers.dst_port);
        }
        const resolve::Responder::Reply reply = responder_.on_udp(
            *table, client, ByteSpan{slot.data.data(), length}, now_unix, now_ms);
        if (log_.enabled() && reply.outcome != nullptr)
            log_query(h, client, *reply.outcome, reply.empty() ? 0 : reply.datagrams, rx_ns);
        if (reply.punt) {
            punt(slot, h, client, length, rx_ns, probed);
            continue;
        }
        if (reply.empty())
            continue;
        prepare_reply_control(slot, h);
        if (reply.datagrams <= 1) {
            queue(slot, reply.bytes, {});
            if (probed)
                querylog::capture_udp(probe_, rx_ns, querylog::ProbeDirection::Response, peers,
                                      reply.bytes);
            continue;
        }
        std::array<std::uint8_t, wire::kEnvelopeSize> envelope;
        for (std::uint32_t k = 0; k < reply.datagrams; ++k) {
            const ByteSpan payload = responder_.udp_datagram(k, envelope);
            queue(slot, envelope, payload);
            if (probed)
                querylog::capture_udp(probe_, rx_ns, querylog::ProbeDirection::Response, peers,
                                      envelope, payload);
        }
    }
    flush();
    if (log_.enabled() || probe_.enabled()) {
        const std::uint64_t now = querylog::realtime_ns();
        log_.end_burst(now);
        probe_.end_burst(now);
    }
    if (now_ms >= next_expire_ms_) {
        responder_.expire(now_ms);
        next_expire_ms_ = now_ms + kExpireIntervalMs;
    }
}

void UdpWorker::log_query(const msghdr& received, const wire::SourceKey& client,
                          const resolve::Outcome& outcome, std::uint32_t datagrams,
                          std::uint64_t rx_ns) noexcept
{
    querylog::Record* r = log_.begin_query(rx_ns);
    if (r == nullptr)
        return;
    querylog::fill_query(*r, peer_of(received, client), outcome, datagrams);
}

querylog::Peer UdpWorker::peer_of(const msghdr& received, const wire::SourceKey& client) const noexcept
{
    querylog::Peer peer = local_;
    if (pktinfo_)
        destination_of(received, peer.server);
    peer.client = client.address;
    peer.client_port = client.port;
    peer.family = querylog::family_of(client.address);
    peer.transport = querylog::Transport::Udp;
    return peer;
}

querylog::ProbeUdpPeers UdpWorker::probe_peers(const msghdr& received,
                                               const wire::SourceKey& client) const noexcept
{
    querylog::ProbeUdpPeers p;
    p.src = client.address;
    p.src_port = client.port;
    p.dst = local_.server;
    p.dst_port = local_.server_port;
    if (pktinfo_)
        destination_of(received, p.dst);
    p.ipv4 = querylog::family_of(client.address) == 4;
    return p;
}

void UdpWorker::prepare_reply_control(RxSlot& slot, const msghdr& received) noexcept
{
    slot.reply_control_length = 0;
    if (!pktinfo_)
        return;
    // Answer from the address the query was sent to: on a wildcard socket the kernel would
    // otherwise pick the route's preferred source, which an anycast or multi-homed client
    // (and any connected UDP socket) does not recognise.
    for (const cmsghdr* c = CMSG_FIRSTHDR(&received); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&received), const_cast<cmsghdr*>(c))) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo in;
            std::memcpy(&in, CMSG_DATA(c), sizeof in);
            in_pktinfo out{};
            out.ipi_spec_dst = in.ipi_addr;
            out.ipi_ifindex = 0; // let routing choose the interface, only pin the source
            auto* r = reinterpret_cast<cmsghdr*>(slot.reply_control.data());
            r->cmsg_level = IPPROTO_IP;
            r->cmsg_type = IP_PKTINFO;
            r->cmsg_len = CMSG_LEN(sizeof out);
            std::memcpy(CMSG_DATA(r), &out, sizeof out);
            slot.reply_control_length = CMSG_SPACE(sizeof out);
            return;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            // Kept as received: the interface index scopes link-local sources.
            auto* r = reinterpret_cast<cmsghdr*>(slot.reply_control.data());
            r->cmsg_level = IPPROTO_IPV6;
            r->cmsg_type = IPV6_PKTINFO;
            r->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
            std::memcpy(CMSG_DATA(r), CMSG_DATA(c), sizeof(in6_pktinfo));
            slot.reply_control_length = CMSG_SPACE(sizeof(in6_pktinfo));
            return;
        }
    }
}

void UdpWorker::punt(RxSlot& slot, const msghdr& received, const wire::SourceKey& client, std::size_t length,
                     std::uint64_t rx_ns, bool probed) noexcept
{
    Miss* m = misses_ != nullptr ? misses_->claim() : nullptr;
    if (m == nullptr || length > m->payload.size()) {
        stats_.punt_dropped.add();
        return;
    }
    prepare_reply_control(slot, received);
    std::memcpy(&m->client, &slot.peer, slot.peer_length);
    m->client_length = slot.peer_length;
    std::memcpy(m->control.data(), slot.reply_control.data(), slot.reply_control_length);
    m->control_length = static_cast<std::uint32_t>(slot.reply_control_length);
    m->fd = fd_.get();
    if (log_.enabled() || probed)
        m->peer = peer_of(received, client);
    m->rx_ns = rx_ns;
    m->probed = probed;
    std::memcpy(m->payload.data(), slot.data.data(), length);
    m->length = static_cast<std::uint32_t>(length);
    misses_->push();
}

void UdpWorker::queue(const RxSlot& to, ByteSpan head, ByteSpan tail) noexcept
{
    // The Responder reuses one reply buffer per call, so each reply is copied out before the
    // next request is handled; a 512-octet copy is far cheaper than the sendmsg per reply that
    // sending in place would cost. When the arena fills (very large multi-datagram answers),
    // it is flushed and filled again.
    if (tx_count_ == tx_.size())
        flush();
    TxSlot& slot = tx_[tx_count_];
    const std::size_t length = std::min(head.size() + tail.size(), slot.data.size());
    const std::size_t head_length = std::min(head.size(), length);
    std::memcpy(slot.data.data(), head.data(), head_length);
    if (length > head_length)
        std::memcpy(slot.data.data() + head_length, tail.data(), length - head_length);
    tx_iov_[tx_count_] = {slot.data.data(), length};
    msghdr& h = tx_msgs_[tx_count_].msg_hdr;
    h.msg_name = const_cast<sockaddr_storage*>(&to.peer);
    h.msg_namelen = to.peer_length;
    h.msg_iov = &tx_iov_[tx_count_];
    h.msg_iovlen = 1;
    h.msg_control =
        to.reply_control_length ? const_cast<std::uint8_t*>(to.reply_control.data()) : nullptr;
    h.msg_controllen = to.reply_control_length;
    h.msg_flags = 0;
    ++tx_count_;
}

void UdpWorker::flush() noexcept
{
    std::size_t sent = 0;
    while (sent < tx_count_) {
        const int n = ::sendmmsg(fd_.get(), tx_msgs_.data() + sent,
                                 static_cast<unsigned>(tx_count_ - sent), MSG_DONTWAIT);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        // sendmmsg reports an error only for the first message it could not send: drop that
        // one (a full socket buffer or an unroutable client) and carry on with the rest.
        stats_.send_errors.add();
        ++sent;
    }
    tx_count_ = 0;
}

} // namespace idpath::socket
