#pragma once
/// Opening the kernel sockets the servers listen on, with the options a resolver wants.
/// Setup path only (never per packet). Thread-safety: pure functions.

#include <optional>
#include <string>

#include "drivers/socket/address.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::socket {

struct SocketTuning {
    /// Requested SO_RCVBUF / SO_SNDBUF. Best effort: SO_*BUFFORCE when privileged, else what
    /// net.core.{r,w}mem_max allows.
    int receive_buffer = 8 << 20;
    int send_buffer = 8 << 20;
    /// SO_REUSEPORT, so several sockets (one per thread) share an address.
    bool reuse_port = true;
    /// listen() backlog of a SOCK_STREAM socket.
    int backlog = 1024;
};

/// Opens a non-blocking, close-on-exec socket of `type` (SOCK_DGRAM or SOCK_STREAM), bound to
/// `ep`; an IPv6 socket gets IPV6_V6ONLY so "[::]" and "0.0.0.0" can both be bound; a stream
/// socket gets SO_REUSEADDR and is put in the listening state. Errors name the step, the
/// endpoint and errno: "bind 0.0.0.0:2641/udp: Address already in use (errno 98)"; on failure
/// the returned descriptor is invalid and `error` says why.
UniqueFd open_bound_socket(const Endpoint& ep, int type, const SocketTuning& tuning,
                           std::string& error);

/// The address a socket is bound to (after binding port 0: the port the kernel chose);
/// nullopt with errno set on failure.
std::optional<Endpoint> local_endpoint(int fd);

/// True for 0.0.0.0 and [::]: a socket bound there must answer from the address each query
/// was sent to (IP_PKTINFO / IPV6_PKTINFO), or multi-homed and anycast hosts answer from the
/// wrong address.
bool is_wildcard(const Endpoint& ep) noexcept;

/// "Address already in use (errno 98)".
std::string errno_text(int err);

/// A non-blocking eventfd that serving threads poll to learn they should stop; invalid on error.
UniqueFd make_wake_fd();
/// Wakes every thread polling `fd` (an eventfd from make_wake_fd); a no-op on an invalid fd.
void wake(const UniqueFd& fd) noexcept;

} // namespace idpath::socket
