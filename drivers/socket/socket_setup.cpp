#include "drivers/socket/socket_setup.hpp"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace idpath::socket {

namespace {

std::string failure(const char* step, const Endpoint& ep, int type, int err)
{
    return std::string(step) + " " + ep.to_string() + (type == SOCK_STREAM ? "/tcp: " : "/udp: ") +
           errno_text(err);
}

void set_buffer(int fd, int force_opt, int opt, int bytes)
{
    // SO_*BUFFORCE ignores the sysctl ceiling but needs CAP_NET_ADMIN; fall back quietly, since
    // a smaller buffer only means more drops under bursts, never wrong answers.
    if (bytes <= 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) != 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

} // namespace

std::string errno_text(int err)
{
    char buf[128];
    // GNU strerror_r returns the message pointer (possibly not `buf`).
    const char* msg = strerror_r(err, buf, sizeof buf);
    return std::string(msg) + " (errno " + std::to_string(err) + ")";
}

bool is_wildcard(const Endpoint& ep) noexcept
{
    if (ep.family() == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ep.storage);
        return sin->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    if (ep.family() == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ep.storage);
        return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
    }
    return false;
}

UniqueFd open_bound_socket(const Endpoint& ep, int type, const SocketTuning& tuning,
                           std::string& error)
{
    if (ep.family() != AF_INET && ep.family() != AF_INET6) {
        error = "socket " + ep.to_string() + ": not an IPv4 or IPv6 address";
        return {};
    }
    UniqueFd fd(::socket(ep.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const auto fail = [&](const char* step) {
        error = failure(step, ep, type, errno);
        return UniqueFd{};
    };
    if (!fd.valid())
        return fail("socket");
    const int one = 1;
    if (ep.family() == AF_INET6 &&
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        return fail("setsockopt IPV6_V6ONLY");
    if (type == SOCK_STREAM &&
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return fail("setsockopt SO_REUSEADDR");
    if (tuning.reuse_port && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return fail("setsockopt SO_REUSEPORT");
    set_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, tuning.receive_buffer);
    set_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, tuning.send_buffer);
    if (::bind(fd.get(), ep.addr(), ep.length) != 0)
        return fail("bind");
    if (type == SOCK_STREAM && ::listen(fd.get(), tuning.backlog) != 0)
        return fail("listen");
    return fd;
}

std::optional<Endpoint> local_endpoint(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return std::nullopt;
    return endpoint_from(reinterpret_cast<const sockaddr*>(&ss), len);
}

UniqueFd make_wake_fd()
{
    return UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

void wake(const UniqueFd& fd) noexcept
{
    if (!fd.valid())
        return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd.get(), &one, sizeof one);
}

} // namespace idpath::socket
