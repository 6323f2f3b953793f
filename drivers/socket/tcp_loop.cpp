#include "drivers/socket/tcp_loop.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>

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
    bool linked = false;
    std::uint32_t interest = 0;
    bool peer_closed = false; // EOF read: answer what is buffered, then close
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
      lru_head_(kNone),
      lru_tail_(kNone)
{
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
    if (lru_head_ == kNone)
        return kMaxPollMs;
    const std::uint64_t deadline = slots_[lru_head_]->deadline_ms;
    if (deadline <= now_ms)
        return 0;
    return static_cast<int>(std::min<std::uint64_t>(deadline - now_ms, kMaxPollMs));
}

void TcpLoop::on_event(std::uint64_t tag, std::uint32_t events) noexcept
{
    if (tag & kControlTag) {
        if (tag != kWakeTag)
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
        if (lru_head_ != kNone) {
            close(*slots_[lru_head_], stats_.closed_limit);
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
    if (open_ >= std::max<std::size_t>(options_.max_connections, 1) && lru_head_ != kNone)
        close(*slots_[lru_head_], stats_.closed_limit);

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
        if (c.pending() > 0 || c.peer_closed)
            return; // paused until the client reads its answers
        const MutableByteSpan space = c.framer.space();
        if (space.empty()) {
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
    while (c.open() && c.pending() == 0) {
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
    const resolve::Responder::Reply reply =
        responder_.on_tcp(*table_, envelope, message, now_unix_, chunked);
    if (log_.enabled() && reply.outcome != nullptr)
        log_query(c, *reply.outcome, !reply.empty());
    if (reply.empty()) {
        // Silence over UDP avoids reflection; over TCP it would only leave the client waiting.
        close(c, stats_.closed_malformed);
        return false;
    }
    send_reply(c, reply.bytes);
    return c.open();
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
    else if (!c.peer_closed)
        want = EPOLLIN;
    if (want == 0) {
        // EOF seen and everything answered: a partial frame left behind can never complete.
        close(c, stats_.closed_by_peer);
        return;
    }
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
    c.deadline_ms = now_ms_ + options_.idle_timeout_ms;
    unlink(c);
    c.prev = lru_tail_;
    c.next = kNone;
    if (lru_tail_ != kNone)
        slots_[lru_tail_]->next = c.slot;
    else
        lru_head_ = c.slot;
    lru_tail_ = c.slot;
    c.linked = true;
}

void TcpLoop::unlink(Connection& c) noexcept
{
    if (!c.linked)
        return;
    if (c.prev != kNone)
        slots_[c.prev]->next = c.next;
    else
        lru_head_ = c.next;
    if (c.next != kNone)
        slots_[c.next]->prev = c.prev;
    else
        lru_tail_ = c.prev;
    c.prev = c.next = kNone;
    c.linked = false;
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
    c.generation = (c.generation + 1) & kGenerationMask;
    free_.push_back(c.slot);
    --open_;
}

void TcpLoop::sweep(std::uint64_t now_ms) noexcept
{
    while (lru_head_ != kNone && slots_[lru_head_]->deadline_ms <= now_ms)
        close(*slots_[lru_head_], stats_.closed_idle);
}

} // namespace idpath::socket
