#include "perf/gun/udp_port.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace idpath::gun {
namespace {

constexpr int kSocketBuffer = 4 << 20;

bool try_again(int err) noexcept
{
    // ENOBUFS: the qdisc or device queue is full, which for a load generator means "later".
    return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR;
}

} // namespace

UdpPort::UdpPort(socket::UniqueFd fd) : fd_(std::move(fd)), rx_(new std::uint8_t[kBurst * kReceiveBuffer]) {}

Result<UdpPort, std::string> UdpPort::open(const socket::Endpoint& server)
{
    socket::UniqueFd fd(::socket(server.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Err("socket: " + errno_text(errno));
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    if (::connect(fd.get(), server.addr(), server.length) != 0)
        return Err("connect " + server.to_string() + "/udp: " + errno_text(errno));
    return UdpPort(std::move(fd));
}

IoResult UdpPort::send(std::span<const ByteSpan> datagrams) noexcept
{
    const std::size_t n = std::min(datagrams.size(), kBurst);
    std::array<iovec, kBurst> iov;
    std::array<mmsghdr, kBurst> msgs{};
    for (std::size_t i = 0; i < n; ++i) {
        iov[i] = {const_cast<std::uint8_t*>(datagrams[i].data()), datagrams[i].size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int sent = ::sendmmsg(fd_.get(), msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (sent < 0)
        return {0, try_again(errno) ? 0 : errno};
    return {static_cast<std::size_t>(sent), 0};
}

IoResult UdpPort::receive(std::span<ByteSpan> out) noexcept
{
    const std::size_t n = std::min(out.size(), kBurst);
    std::array<iovec, kBurst> iov;
    std::array<mmsghdr, kBurst> msgs{};
    for (std::size_t i = 0; i < n; ++i) {
        iov[i] = {rx_.get() + i * kReceiveBuffer, kReceiveBuffer};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(fd_.get(), msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    if (got < 0)
        return {0, try_again(errno) ? 0 : errno};
    for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
        const bool truncated = msgs[i].msg_hdr.msg_flags & MSG_TRUNC;
        out[i] = truncated ? ByteSpan{} : ByteSpan{rx_.get() + i * kReceiveBuffer, msgs[i].msg_len};
    }
    return {static_cast<std::size_t>(got), 0};
}

} // namespace idpath::gun
