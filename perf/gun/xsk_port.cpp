#include "perf/gun/xsk_port.hpp"

#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "dataplane/wire/constants.hpp"
#include "perf/gun/xdp_source.hpp"

namespace idpath::gun {
namespace {

constexpr std::uint32_t kRxFrames = XskPort::kFrames / 2;
constexpr std::uint32_t kRingSize = kRxFrames; // every ring holds all the frames it can see
constexpr std::size_t kAreaSize = std::size_t{XskPort::kFrames} * XskPort::kFrameSize;

} // namespace

struct XskPort::State {
    const XdpTarget* target = nullptr;
    std::uint32_t queue = 0;
    WorkerStats* stats = nullptr;
    void* area = nullptr;
    xsk_umem* umem = nullptr;
    xsk_socket* xsk = nullptr;
    xsk_ring_prod fill{};
    xsk_ring_cons comp{};
    xsk_ring_prod tx{};
    xsk_ring_cons rx{};
    bool zero_copy = false;
    std::vector<std::uint64_t> free_tx;          // TX frames not on the ring
    std::uint32_t tx_in_flight = 0;              // on the TX ring, completion not yet seen
    std::array<std::uint64_t, kBurst> held_rx{}; // frames whose payloads the caller still reads
    std::uint32_t held = 0;
    std::array<std::array<std::uint8_t, wire::kMaxUdpDatagram>, kBurst> handed{}; // from the inbox

    ~State()
    {
        if (xsk)
            xsk_socket__delete(xsk);
        if (umem)
            xsk_umem__delete(umem);
        if (area)
            munmap(area, kAreaSize);
    }

    std::uint8_t* at(std::uint64_t addr) const noexcept
    {
        return static_cast<std::uint8_t*>(xsk_umem__get_data(area, addr));
    }

    void count(Stat s, std::uint64_t n = 1) noexcept
    {
        if (stats)
            stats->add(s, n);
    }

    void reclaim_tx() noexcept
    {
        std::uint32_t idx = 0;
        const std::uint32_t n = xsk_ring_cons__peek(&comp, kRingSize, &idx);
        for (std::uint32_t i = 0; i < n; ++i)
            free_tx.push_back(*xsk_ring_cons__comp_addr(&comp, idx + i)); // capacity: all TX frames
        xsk_ring_cons__release(&comp, n);
        tx_in_flight -= n;
    }

    /// Copy mode transmits in sendto() (up to 32 frames a call); zero-copy drivers ask for it
    /// with the need-wakeup flag only when their NAPI loop sleeps.
    void kick_tx() noexcept
    {
        if (xsk_ring_prod__needs_wakeup(&tx))
            (void)::sendto(xsk_socket__fd(xsk), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    }

    /// Gives the frames of the last receive() back to the fill ring.
    void refill() noexcept
    {
        if (held == 0)
            return;
        std::uint32_t idx = 0;
        // The fill ring holds every RX frame, so there is always room for those we held.
        if (xsk_ring_prod__reserve(&fill, held, &idx) != held)
            return;
        for (std::uint32_t i = 0; i < held; ++i)
            *xsk_ring_prod__fill_addr(&fill, idx + i) = held_rx[i];
        xsk_ring_prod__submit(&fill, held);
        held = 0;
    }
};

XskPort::XskPort(std::unique_ptr<State> state) : s_(std::move(state)) {}
XskPort::XskPort(XskPort&&) noexcept = default;
XskPort& XskPort::operator=(XskPort&&) noexcept = default;
XskPort::~XskPort() = default;

int XskPort::fd() const noexcept
{
    return xsk_socket__fd(s_->xsk);
}

bool XskPort::zero_copy() const noexcept
{
    return s_->zero_copy;
}

void XskPort::bind_stats(WorkerStats& stats) noexcept
{
    s_->stats = &stats;
}

std::uint32_t XskPort::linger(std::uint32_t outstanding) noexcept
{
    XdpHandoff* h = s_->target->handoff;
    if (!h)
        return outstanding;
    h->waiting[s_->queue].store(outstanding > 0, std::memory_order_relaxed);
    if (outstanding)
        return outstanding;
    for (std::uint32_t q = 0; q < s_->target->queues; ++q)
        if (h->waiting[q].load(std::memory_order_relaxed))
            return 1;
    return 0;
}

Result<XskPort, std::string> XskPort::open(const XdpTarget& target, std::uint32_t queue, int xsks_map_fd)
{
    const std::string where = target.ifname + " queue " + std::to_string(queue) + ": ";
    int error = 0;
    // Zero-copy first; a driver without it refuses the bind and copy mode takes over. The UMEM
    // is made afresh for each try: a failed bind leaves its fill and completion rings used.
    for (const std::uint16_t mode : {std::uint16_t{XDP_ZEROCOPY}, std::uint16_t{XDP_COPY}}) {
        auto s = std::make_unique<State>();
        s->target = &target;
        s->queue = queue;
        s->area = mmap(nullptr, kAreaSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (s->area == MAP_FAILED) {
            s->area = nullptr;
            return Err(where + "UMEM mmap: " + errno_text(errno));
        }
        xsk_umem_config ucfg;
        std::memset(&ucfg, 0, sizeof ucfg);
        ucfg.fill_size = kRingSize;
        ucfg.comp_size = kRingSize;
        ucfg.frame_size = kFrameSize;
        if (const int e = xsk_umem__create(&s->umem, s->area, kAreaSize, &s->fill, &s->comp, &ucfg); e != 0) {
            s->umem = nullptr;
            return Err(where + "xsk_umem__create: " + errno_text(-e) +
                       (e == -EPERM ? "; needs root (CAP_NET_RAW, CAP_NET_ADMIN, CAP_IPC_LOCK)" : ""));
        }
        xsk_socket_config scfg;
        std::memset(&scfg, 0, sizeof scfg);
        scfg.rx_size = kRingSize;
        scfg.tx_size = kRingSize;
        scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD; // our program, not libxdp's
        scfg.bind_flags = static_cast<std::uint16_t>(mode | XDP_USE_NEED_WAKEUP);
        if (const int e = xsk_socket__create(&s->xsk, target.ifname.c_str(), queue, s->umem, &s->rx, &s->tx, &scfg);
            e != 0) {
            s->xsk = nullptr;
            error = -e;
            continue;
        }
        s->zero_copy = mode == XDP_ZEROCOPY;
        if (const int e = xsk_socket__update_xskmap(s->xsk, xsks_map_fd); e != 0)
            return Err(where + "inserting the socket into the XSKMAP: " + errno_text(-e));

        s->free_tx.reserve(kFrames - kRxFrames);
        for (std::uint32_t f = kRxFrames; f < kFrames; ++f)
            s->free_tx.push_back(std::uint64_t{f} * kFrameSize);
        std::uint32_t idx = 0;
        if (xsk_ring_prod__reserve(&s->fill, kRxFrames, &idx) != kRxFrames)
            return Err(where + "the fill ring is smaller than its frames");
        for (std::uint32_t f = 0; f < kRxFrames; ++f)
            *xsk_ring_prod__fill_addr(&s->fill, idx + f) = std::uint64_t{f} * kFrameSize;
        xsk_ring_prod__submit(&s->fill, kRxFrames);
        return XskPort(std::move(s));
    }
    return Err(where + "xsk_socket__create (zero-copy, then copy mode): " + errno_text(error) +
               (error == EPERM ? "; needs root (CAP_NET_RAW)" : ""));
}

IoResult XskPort::send(std::span<const ByteSpan> datagrams) noexcept
{
    State& s = *s_;
    s.reclaim_tx();
    std::size_t n = std::min({datagrams.size(), kBurst, s.free_tx.size()});
    std::uint32_t idx = 0;
    n = xsk_ring_prod__reserve(&s.tx, static_cast<std::uint32_t>(n), &idx);
    const XdpTarget& t = *s.target;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t addr = s.free_tx.back();
        s.free_tx.pop_back();
        const ByteSpan d = datagrams[i];
        // The family (in a mixed run), the source address and the port: all from the RequestId.
        const FrameAddresses a = xdp_query_addresses(t, xdp_request_id(d), s.queue);
        // A datagram is at most 512 octets: it always fits a frame.
        const std::size_t size = build_frame(a, d, MutableByteSpan{s.at(addr), kFrameSize});
        xdp_desc* desc = xsk_ring_prod__tx_desc(&s.tx, idx + static_cast<std::uint32_t>(i));
        desc->addr = addr;
        desc->len = static_cast<std::uint32_t>(size);
        desc->options = 0;
    }
    xsk_ring_prod__submit(&s.tx, static_cast<std::uint32_t>(n));
    s.tx_in_flight += static_cast<std::uint32_t>(n);
    if (s.tx_in_flight)
        s.kick_tx();
    return {n, 0};
}

IoResult XskPort::receive(std::span<ByteSpan> out) noexcept
{
    State& s = *s_;
    s.refill();
    if (s.tx_in_flight) { // copy mode leaves what one kick could not send for the next one
        s.reclaim_tx();
        if (s.tx_in_flight)
            s.kick_tx();
    }
    if (xsk_ring_prod__needs_wakeup(&s.fill))
        (void)::recvfrom(xsk_socket__fd(s.xsk), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    const std::size_t want = std::min(out.size(), kBurst);
    std::size_t k = 0;
    if (s.target->handoff) {
        XdpInbox& inbox = *s.target->handoff->inboxes[s.queue];
        for (int len; k < want && (len = inbox.pop(s.handed[k].data())) >= 0; ++k)
            out[k] = ByteSpan{s.handed[k].data(), static_cast<std::size_t>(len)};
    }
    std::uint32_t idx = 0;
    // held_rx has room for one burst: read none while frames could not go back (cannot happen).
    const std::uint32_t n =
        s.held ? 0 : xsk_ring_cons__peek(&s.rx, static_cast<std::uint32_t>(want - k), &idx);
    for (std::uint32_t i = 0; i < n; ++i) {
        const xdp_desc* desc = xsk_ring_cons__rx_desc(&s.rx, idx + i);
        const std::uint64_t addr = xsk_umem__add_offset_to_addr(desc->addr);
        s.held_rx[s.held++] = addr - addr % kFrameSize;
        const AnswerFrame f = parse_answer_frame(ByteSpan{s.at(addr), desc->len});
        switch (f.status) {
        case AnswerFrameStatus::Ok:
            if (const std::uint32_t q = xdp_answer_queue(*s.target, f); q == s.queue) {
                out[k++] = f.payload;
            } else if (q < s.target->queues && s.target->handoff) {
                // Another queue's answer: its owner matches it (a full inbox drops it: lost).
                (void)s.target->handoff->inboxes[q]->push(f.payload);
            } else { // not to the port and address its RequestId was sent from
                s.count(Stat::DatagramsIn);
                s.count(Stat::BytesIn, f.payload.size());
                s.count(Stat::Wrong);
            }
            break;
        case AnswerFrameStatus::NotUdp: // the XDP program passes these to the kernel
            break;
        case AnswerFrameStatus::Malformed:
        case AnswerFrameStatus::BadChecksum:
            s.count(Stat::DatagramsIn);
            s.count(Stat::Malformed);
            break;
        }
    }
    xsk_ring_cons__release(&s.rx, n);
    return {k, 0};
}

} // namespace idpath::gun
