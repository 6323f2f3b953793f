#pragma once
/// A kernel UDP socket connected to the server: sendmmsg/recvmmsg in bursts. Each port has its
/// own source port, so several ports spread over the server's SO_REUSEPORT sockets or RSS queues.
/// The first of the load generator's ports; AF_XDP and DPDK ports will offer the same calls.
/// Thread-safety: one thread. Hot path: send() and receive() make one syscall each and never
/// allocate.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/unique_fd.hpp"
#include "perf/gun/io_result.hpp"

namespace idpath::gun {

class UdpPort {
public:
    /// Most datagrams one send() or receive() moves.
    static constexpr std::size_t kBurst = 32;
    /// A receive buffer: answers are at most 512 octets; anything longer is returned empty.
    static constexpr std::size_t kReceiveBuffer = 2048;
    /// False: a lost datagram is the matcher's business, not the connection's.
    static constexpr bool kStream = false;

    /// Opens a non-blocking socket connected to `server`, asking for 4 MiB socket buffers.
    /// Errors name the step and errno.
    static Result<UdpPort, std::string> open(const socket::Endpoint& server);

    int fd() const noexcept { return fd_.get(); }
    bool wants_write() const noexcept { return false; }

    /// Sends each span as one datagram. count: how many the kernel took (the rest may be
    /// retried); error: ECONNREFUSED (an ICMP port unreachable came back) or another errno.
    IoResult send(std::span<const ByteSpan> datagrams) noexcept;
    /// Receives up to min(out.size(), kBurst) datagrams into `out`, valid until the next call.
    /// A datagram too long for its buffer is returned as an empty span.
    IoResult receive(std::span<ByteSpan> out) noexcept;
    IoResult flush() noexcept { return {}; }

private:
    explicit UdpPort(socket::UniqueFd fd);

    socket::UniqueFd fd_;
    std::unique_ptr<std::uint8_t[]> rx_; // kBurst x kReceiveBuffer
};

} // namespace idpath::gun
