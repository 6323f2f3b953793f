#include "drivers/socket/tcp_loop.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dataplane/querylog/clock.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/reassembly.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/clock.hpp"
#include "drivers/socket/socket_setup.hpp"
#include "drivers/socket/tcp_framer.hpp"

namespace idpath::socket {

namespace {

constexpr std::uint32_t kNone = 0xffffffffu;
// Tags of epoll events: connections carry (generation << 32 | slot), so an event queued for a
// connection closed earlier in the same batch is recognised as stale; bit 63 marks our own fds.
constexpr std::uint64_t kControlTag = 1ull << 63;
constexpr std::uint64_t kWakeTag = kControlTag | 0xffffffffu;
constexpr std::uint64_t kPuntTag = kControlTag | 0xfffffffeu;
constexpr std::uint32_t kGenerationMask = 0x7fffffffu;
constexpr int kMaxEvents = 128;
constexpr int kMaxPollMs = 1000;
// Fairness: one busy connection or listener yields to the others after this much work.
constexpr int kReadsPerEvent = 4;
constexpr int kAcceptsPerEvent = 64;
// Output buffers above this are given back to the allocator once drained.
constexpr std::size_t kKeptOutput = 64u << 10;

bool would_block(int err) noexcept
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

} // namespace

struct TcpLoop::Connection {
    explicit Connection(std::size_t max_message) : framer(max_message) {}

    bool open() const noexcept { return fd.valid(); }
    std::size_t pending() const noexcept { return out.size() - out_sent; }
    std::uint64_t tag() const noexcept { return (std::uint64_t{generation} << 32) | slot; }

    UniqueFd fd;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    TcpFramer framer;
    std::vector<std::uint8_t> out;
    std::size_t out_sent = 0;
    std::unique_ptr<wire::Reassembler> reassembler; // only for multi-envelope (TC) messages
    std::uint64_t deadline_ms = 0;
    std::uint32_t prev = kNone;
    std::uint32_t next = kNone;
    List* list = nullptr; // lru_ or awaiting_; null: in neither
    std::uint32_t interest = 0;
    bool peer_closed = false; // EOF read: answer what is buffered, then close
    // A punted request's reply has not come back: no further frame is handled before it
    // (replies stay in request order), but reading goes on into the framer's buffer...
    bool awaiting = false;
    // ...until that is full: then reading pauses until the reply is written.
    bool input_full = false;
    querylog::Peer peer;      // both ends, kept for the query log (only when it is on)
};

TcpLoop::TcpLoop(const TcpServerOptions& options, resolve::PolicyRef policy,
                 const TableSource& table_source, std::vector<UniqueFd> listeners, int wake_fd,
                 const std::atomic<bool>& stopping, resolve::ResolveStats& resolve_stats,
                 TcpStats& tcp_stats, querylog::QueryLog& query_log)
    : options_(options),
      table_source_(table_source),
      listeners_(std::move(listeners)),
      wake_fd_(wake_fd),
      stopping_(stopping),
      stats_(tcp_stats),
      log_(query_log),
      responder_(policy, resolve_stats),
      lru_{kNone, kNone},
      awaiting_{kNone, kNone},
      punts_(options.punts)
{
    responder_.set_can_punt(punts_ != nullptr);
}

TcpLoop::~TcpLoop() = default;

bool TcpLoop::init() noexcept
{
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid())
        return false;
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kControlTag | i;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listeners_[i].get(), &ev) != 0)
            return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_, &ev) != 0)
        return false;
    if (punts_ != nullptr) {
        ev.data.u64 = kPuntTag;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, punts_->event_fd(), &ev) != 0)
            return false;
    }
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    slots_.reserve(std::min<std::size_t>(options_.max_connections, 4096));
    return true;
}

void TcpLoop::run() noexcept
{
    std::array<epoll_event, kMaxEvents> events;
    while (!stopping_.load(std::memory_order_acquire)) {
        const int n =
            epoll_wait(epoll_.get(), events.data(), kMaxEvents, poll_timeout(monotonic_ms()));
        now_ms_ = monotonic_ms();
        now_unix_ = unix_seconds();
        if (log_.enabled())
            rx_ns_ = querylog::realtime_ns();
        if (reclaimer_ != nullptr)
            reclaimer_->online(reader_id_);
        table_ = table_source_();
        if (table_ == nullptr)
            table_ = &empty_table_;
        for (int i = 0; i < n; ++i)
            on_event(events[static_cast<std::size_t>(i)].data.u64,
                     events[static_cast<std::size_t>(i)].events);
        sweep(now_ms_);
        // The replies were sent (or queued on their connections): publish their records. With
        // nothing received this only writes a heartbeat when one is due.
        if (log_.enabled())
            log_.end_burst(querylog::realtime_ns());
        // Replies are copied into the connection, so no table reference outlives the iteration.
        table_ = &empty_table_;
        if (reclaimer_ != nullptr)
            reclaimer_->offline(reader_id_);
    }
    for (auto& c : slots_)
        if (c && c->open())
            close(*c, stats_.closed_shutdown);
}

int TcpLoop::poll_timeout(std::uint64_t now_ms) const noexcept
{
    std::uint64_t deadline = ~std::uint64_t{0};
    for (const List* l : {&lru_, &awaiting_})
        if (l->head != kNone)
            deadline = std::min(deadline, slots_[l->head]->deadline_ms);
    if (deadline == ~std::uint64_t{0})
        return kMaxPollMs;
    if (deadline <= now_ms)
        return 0;
    return static_cast<int>(std::min<std::uint64_t>(deadline - now_ms, kMaxPollMs));
}

void TcpLoop::on_event(std::uint64_t tag, std::uint32_t events) noexcept
{
    if (tag & kControlTag) {
        if (tag == kPuntTag)
            on_replies();
        else if (tag != kWakeTag)
            accept_from(listeners_[tag & 0xffffffffu].get());
        return;
    }
    const auto slot = static_cast<std::uint32_t>(tag & 0xffffffffu);
    if (slot >= slots_.size() || !slots_[slot])
        return;
    Connection& c = *slots_[slot];
    if (!c.open() || c.tag() != tag)
        return; // closed (and maybe reused) earlier in this batch
    if (events & EPOLLOUT)
        write_out(c);
    if (c.open() && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        read_from(c);
    if (c.open() && (events & (EPOLLHUP | EPOLLERR)))
        close(c, (events & EPOLLERR) ? stats_.closed_error : stats_.closed_by_peer);
}

void TcpLoop::accept_from(int listener) noexcept
{
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof peer;
        const int fd = accept4(listener, reinterpret_cast<sockaddr*>(&peer), &peer_length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(UniqueFd(fd), peer);
            continue;
        }
        const int err = errno;
        if (would_block(err))
            return;
        if (err == EINTR || err == ECONNABORTED)
            continue;
        stats_.accept_errors.add();
        if (err != EMFILE && err != ENFILE)
            return;
        // Out of descriptors (max_connections above the process limit): make room the same way
        // the connection limit does, or, with nothing to evict, accept-and-close with the spare
        // descriptor so the listener does not stay readable and spin.
        if (Connection* victim = oldest()) {
            close(*victim, stats_.closed_limit);
            continue;
        }
        if (spare_.valid()) {
            spare_.reset();
            const int doomed = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (doomed >= 0)
                ::close(doomed);
            spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        }
        return;
    }
}

void TcpLoop::admit(UniqueFd fd, const sockaddr_storage& peer) noexcept
{
    // At the limit the least recently active connection makes way: refusing the newcomer
    // instead would let a few hundred idle connections deny service to everyone (HANDLE.NET's
    // failure), while evicting costs a legitimate client at most a reconnect.
    if (open_ >= std::max<std::size_t>(options_.max_connections, 1))
        if (Connection* victim = oldest())
            close(*victim, stats_.closed_limit);

    std::uint32_t slot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.push_back(std::make_unique<Connection>(options_.max_message));
        slots_.back()->slot = slot;
    }
    Connection& c = *slots_[slot];
    const int one = 1;
    // Pipelined answers are written one by one; Nagle would hold each behind the client's ACK.
    (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c.tag();
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
        stats_.accept_errors.add();
        free_.push_back(slot);
        return;
    }
    if (log_.enabled()) {
        // One getsockname per connection, not per request: the local end of a wildcard
        // listener's connection is only known from the socket.
        const wire::SourceKey client = source_key(peer);
        c.peer.client = client.address;
        c.peer.client_port = client.port;
        c.peer.family = querylog::family_of(client.address);
        c.peer.transport = querylog::Transport::Tcp;
        const auto local = local_endpoint(fd.get());
        const wire::SourceKey server = local ? source_key(*local) : wire::SourceKey{};
        c.peer.server = server.address;
        c.peer.server_port = server.port;
    }
    c.fd = std::move(fd);
    c.interest = EPOLLIN;
    ++open_;
    stats_.accepted.add();
    touch(c);
}

void TcpLoop::read_from(Connection& c) noexcept
{
    for (int round = 0; round < kReadsPerEvent; ++round) {
        if (c.pending() > 0 || c.peer_closed || c.input_full)
            return; // paused until the client reads its answers (or the resolver's comes)
        const MutableByteSpan space = c.framer.space();
        if (space.empty()) {
            if (c.awaiting) {
                // As much buffered as one frame's limit allows: read on once the reply is out.
                c.input_full = true;
                update_interest(c);
                return;
            }
            process_frames(c);
            if (!c.open())
                return;
            continue;
        }
        const ssize_t n = ::recv(c.fd.get(), space.data(), space.size(), MSG_DONTWAIT);
        if (n > 0) {
            c.framer.commit(static_cast<std::size_t>(n));
            process_frames(c);
            if (!c.open() || static_cast<std::size_t>(n) < space.size())
                return;
            continue;
        }
        if (n == 0) {
            c.peer_closed = true;
            update_interest(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            close(c, stats_.closed_error);
        return;
    }
}

void TcpLoop::process_frames(Connection& c) noexcept
{
    while (c.open() && c.pending() == 0 && !c.awaiting) {
        switch (c.framer.next()) {
        case TcpFramer::Status::NeedMore:
            update_interest(c);
            return;
        case TcpFramer::Status::Malformed:
            close(c, stats_.closed_malformed);
            return;
        case TcpFramer::Status::TooLarge:
            close(c, stats_.closed_oversize);
            return;
        case TcpFramer::Status::Frame:
            if (!handle_frame(c))
                return;
            c.framer.pop();
            break;
        }
    }
    if (c.open())
        update_interest(c);
}

bool TcpLoop::handle_frame(Connection& c) noexcept
{
    wire::Envelope envelope = c.framer.envelope();
    ByteSpan message = c.framer.payload();
    const bool chunked = envelope.truncated() && envelope.message_length > wire::kMaxUdpChunk;
    if (chunked) {
        stats_.chunks.add();
        if (!c.reassembler) {
            // One message in flight per connection, no larger than a single frame may be: the
            // same memory bound as the unchunked form.
            wire::ReassemblyLimits limits;
            limits.max_entries = 1;
            limits.max_entries_per_source = 1;
            limits.max_bytes = options_.max_message;
            limits.max_message_length = options_.max_message;
            limits.timeout_ms = options_.idle_timeout_ms;
            c.reassembler = std::make_unique<wire::Reassembler>(limits);
        }
        const wire::Reassembler::Outcome o =
            c.reassembler->add(wire::SourceKey{}, envelope, message, now_ms_);
        if (o.status == wire::Reassembler::Status::Refused) {
            close(c, stats_.closed_malformed);
            return false;
        }
        if (o.status == wire::Reassembler::Status::Incomplete)
            return true;
        envelope = o.envelope;
        message = o.message;
    }
    stats_.requests.add();
    touch(c);
    // A miss can go to the resolvers when the request fits a miss slot whole and one is free;
    // otherwise the Responder counts it dropped and answers from the table.
    const bool room = punts_ != nullptr && !chunked &&
                      wire::kEnvelopeSize + message.size() <= TcpMiss::kMaxRequest && claim_miss();
    const resolve::Responder::Reply reply =
        responder_.on_tcp(*table_, envelope, message, now_unix_, chunked, room);
    if (log_.enabled() && reply.outcome != nullptr)
        log_query(c, *reply.outcome, !reply.empty());
    if (reply.punt) {
        punt(c, envelope, message);
        return true; // the frame is copied out: pop it; the connection now waits
    }
    if (reply.empty()) {
        // Silence over UDP avoids reflection; over TCP it would only leave the client waiting.
        close(c, stats_.closed_malformed);
        return false;
    }
    send_reply(c, reply.bytes);
    return c.open();
}

bool TcpLoop::claim_miss() noexcept
{
    if (next_miss_ == nullptr)
        next_miss_ = punts_->misses.claim();
    return next_miss_ != nullptr;
}

void TcpLoop::punt(Connection& c, const wire::Envelope& envelope, ByteSpan message) noexcept
{
    TcpMiss& m = *std::exchange(next_miss_, nullptr); // claimed: handle_frame said there was room
    m.slot = c.slot;
    m.generation = c.generation;
    m.peer = c.peer;
    m.rx_ns = rx_ns_;
    wire::encode_envelope(envelope, std::span<std::uint8_t, wire::kEnvelopeSize>(m.request.data(), wire::kEnvelopeSize));
    std::memcpy(m.request.data() + wire::kEnvelopeSize, message.data(), message.size());
    m.length = static_cast<std::uint32_t>(wire::kEnvelopeSize + message.size());
    punts_->misses.push();
    c.awaiting = true;
    link(c, awaiting_, now_ms_ + options_.punt_timeout_ms);
}

void TcpLoop::on_replies() noexcept
{
    punts_->take(replies_);
    for (const TcpReply& r : replies_) {
        Connection* c = r.slot < slots_.size() ? slots_[r.slot].get() : nullptr;
        if (c == nullptr || !c->open() || c->generation != r.generation || !c->awaiting) {
            stats_.punt_replies_stale.add(); // closed since (punt timeout, peer, eviction)
            continue;
        }
        c->awaiting = false;
        c->input_full = false;
        touch(*c);
        if (r.bytes.empty()) {
            // The resolver had no answer; silence would only leave the client waiting.
            close(*c, stats_.closed_malformed);
            continue;
        }
        send_reply(*c, r.bytes);
        // Frames that arrived meanwhile are answered now, in order, after this reply.
        if (c->open())
            process_frames(*c);
    }
    replies_.clear(); // the reply buffers go now, not at the next take
}

void TcpLoop::log_query(const Connection& c, const resolve::Outcome& outcome,
                        bool answered) noexcept
{
    if (querylog::Record* r = log_.begin_query(rx_ns_))
        querylog::fill_query(*r, c.peer, outcome, answered ? 1 : 0);
}

void TcpLoop::send_reply(Connection& c, ByteSpan reply) noexcept
{
    std::size_t sent = 0;
    if (c.pending() == 0) {
        const ssize_t n =
            ::send(c.fd.get(), reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && !would_block(errno) && errno != EINTR) {
            close(c, stats_.closed_error);
            return;
        }
        sent = n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    if (sent == reply.size())
        return;
    if (c.pending() == 0) {
        c.out.clear();
        c.out_sent = 0;
    }
    c.out.insert(c.out.end(), reply.begin() + static_cast<std::ptrdiff_t>(sent), reply.end());
    stats_.output_stalls.add();
}

void TcpLoop::write_out(Connection& c) noexcept
{
    while (c.pending() > 0) {
        const ssize_t n =
            ::send(c.fd.get(), c.out.data() + c.out_sent, c.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out_sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && would_block(errno)) {
            update_interest(c);
            return;
        }
        close(c, stats_.closed_error);
        return;
    }
    if (c.out.capacity() > kKeptOutput)
        std::vector<std::uint8_t>().swap(c.out);
    else
        c.out.clear();
    c.out_sent = 0;
    // Frames read before the pause are answered first; reading resumes after them.
    process_frames(c);
}

void TcpLoop::update_interest(Connection& c) noexcept
{
    std::uint32_t want = 0;
    if (c.pending() > 0)
        want = EPOLLOUT;
    else if (!c.peer_closed && !c.input_full)
        want = EPOLLIN;
    if (want == 0 && !c.awaiting) {
        // EOF seen and everything answered: a partial frame left behind can never complete.
        close(c, stats_.closed_by_peer);
        return;
    }
    // Awaiting with nothing to read for: no interest at all (EPOLLHUP and EPOLLERR still come).
    if (want == c.interest)
        return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = c.tag();
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0) {
        close(c, stats_.closed_error);
        return;
    }
    c.interest = want;
}

void TcpLoop::touch(Connection& c) noexcept
{
    link(c, lru_, now_ms_ + options_.idle_timeout_ms);
}

void TcpLoop::link(Connection& c, List& list, std::uint64_t deadline_ms) noexcept
{
    // Appended with now + the list's one timeout: each list stays in deadline order.
    unlink(c);
    c.deadline_ms = deadline_ms;
    c.prev = list.tail;
    c.next = kNone;
    if (list.tail != kNone)
        slots_[list.tail]->next = c.slot;
    else
        list.head = c.slot;
    list.tail = c.slot;
    c.list = &list;
}

void TcpLoop::unlink(Connection& c) noexcept
{
    if (c.list == nullptr)
        return;
    List& list = *c.list;
    if (c.prev != kNone)
        slots_[c.prev]->next = c.next;
    else
        list.head = c.next;
    if (c.next != kNone)
        slots_[c.next]->prev = c.prev;
    else
        list.tail = c.prev;
    c.prev = c.next = kNone;
    c.list = nullptr;
}

TcpLoop::Connection* TcpLoop::oldest() noexcept
{
    // The least recently active; a connection waiting for a resolver only when all are waiting.
    if (lru_.head != kNone)
        return slots_[lru_.head].get();
    if (awaiting_.head != kNone)
        return slots_[awaiting_.head].get();
    return nullptr;
}

void TcpLoop::close(Connection& c, Counter& reason) noexcept
{
    reason.add();
    unlink(c);
    c.fd.reset(); // closing the last reference also removes it from the epoll set
    c.framer = TcpFramer(options_.max_message);
    std::vector<std::uint8_t>().swap(c.out);
    c.out_sent = 0;
    c.reassembler.reset();
    c.interest = 0;
    c.peer_closed = false;
    c.awaiting = false;
    c.input_full = false;
    c.generation = (c.generation + 1) & kGenerationMask;
    free_.push_back(c.slot);
    --open_;
}

void TcpLoop::sweep(std::uint64_t now_ms) noexcept
{
    while (lru_.head != kNone && slots_[lru_.head]->deadline_ms <= now_ms)
        close(*slots_[lru_.head], stats_.closed_idle);
    while (awaiting_.head != kNone && slots_[awaiting_.head]->deadline_ms <= now_ms)
        close(*slots_[awaiting_.head], stats_.closed_punt_timeout);
}

} // namespace idpath::socket
