#include "perf/gun/tcp_port.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "dataplane/wire/envelope.hpp"

namespace idpath::gun {
namespace {

bool try_again(int err) noexcept
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/// A connected socket, or an invalid one with `error` set.
socket::UniqueFd connect_to(const socket::Endpoint& server, std::uint32_t timeout_ms, std::string& error)
{
    const std::string where = "connect " + server.to_string() + "/tcp: ";
    socket::UniqueFd fd(::socket(server.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        error = "socket: " + errno_text(errno);
        return fd;
    }
    const int one = 1;
    (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), server.addr(), server.length) == 0)
        return fd;
    int err = errno;
    if (err == EINPROGRESS) {
        pollfd p{fd.get(), POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout_ms));
        socklen_t len = sizeof err;
        if (ready == 0)
            err = ETIMEDOUT;
        else if (ready < 0)
            err = errno;
        else if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
    }
    if (err != 0) {
        error = where + errno_text(err);
        fd.reset();
    }
    return fd;
}

} // namespace

TcpPort::TcpPort(const socket::Endpoint& server, socket::UniqueFd fd, std::uint32_t timeout_ms)
    : server_(server),
      fd_(std::move(fd)),
      timeout_ms_(timeout_ms),
      out_(new std::uint8_t[kOutputBuffer]),
      in_(new std::uint8_t[kInputBuffer])
{
}

Result<TcpPort, std::string> TcpPort::open(const socket::Endpoint& server, std::uint32_t timeout_ms)
{
    std::string error;
    socket::UniqueFd fd = connect_to(server, timeout_ms, error);
    if (!fd.valid())
        return Err(std::move(error));
    return TcpPort(server, std::move(fd), timeout_ms);
}

bool TcpPort::reconnect(std::string& error)
{
    fd_.reset();
    out_head_ = out_tail_ = in_head_ = in_tail_ = 0;
    fd_ = connect_to(server_, timeout_ms_, error);
    return fd_.valid();
}

IoResult TcpPort::send(std::span<const ByteSpan> frames) noexcept
{
    if (out_head_ == out_tail_)
        out_head_ = out_tail_ = 0;
    std::size_t queued = 0;
    for (const ByteSpan f : frames) {
        if (f.size() > kOutputBuffer - out_tail_)
            break;
        std::memcpy(out_.get() + out_tail_, f.data(), f.size());
        out_tail_ += f.size();
        ++queued;
    }
    IoResult r = flush();
    r.count = queued;
    return r;
}

IoResult TcpPort::flush() noexcept
{
    while (out_head_ < out_tail_) {
        const ssize_t n = ::send(fd_.get(), out_.get() + out_head_, out_tail_ - out_head_, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0)
            return {0, try_again(errno) ? 0 : errno};
        out_head_ += static_cast<std::size_t>(n);
    }
    if (out_head_ == out_tail_)
        out_head_ = out_tail_ = 0;
    return {};
}

IoResult TcpPort::receive(std::span<ByteSpan> out) noexcept
{
    // The frames handed out last time are no longer needed: move the unread rest to the front.
    if (in_head_ > 0) {
        std::memmove(in_.get(), in_.get() + in_head_, in_tail_ - in_head_);
        in_tail_ -= in_head_;
        in_head_ = 0;
    }
    IoResult r;
    if (in_tail_ < kInputBuffer) {
        const ssize_t n = ::recv(fd_.get(), in_.get() + in_tail_, kInputBuffer - in_tail_, MSG_DONTWAIT);
        if (n == 0)
            r.error = ECONNRESET;
        else if (n < 0 && !try_again(errno))
            r.error = errno;
        else if (n > 0)
            in_tail_ += static_cast<std::size_t>(n);
    }
    while (r.count < out.size() && in_tail_ - in_head_ >= wire::kEnvelopeSize) {
        const ByteSpan rest{in_.get() + in_head_, in_tail_ - in_head_};
        const auto env = wire::decode_envelope(rest);
        if (!env.ok()) {
            r.error = EPROTO; // no way to find the next frame
            break;
        }
        const std::size_t frame = wire::kEnvelopeSize + env->message_length;
        if (rest.size() < frame)
            break;
        out[r.count++] = rest.first(frame);
        in_head_ += frame;
    }
    return r;
}

} // namespace idpath::gun
