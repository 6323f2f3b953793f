#pragma once
/// An AF_XDP socket on one queue of an interface (libxdp's xsk API) with its own UMEM: the
/// load generator's kernel-bypass port, the way kxdpgun drives Knot. send() wraps each Handle
/// datagram in Ethernet/IP/UDP (frame.hpp, checksums in software) and puts it on the TX ring;
/// receive() takes answer frames off the RX ring, checks them (checksums, the server's address
/// and port, our source address and port for the RequestId they carry, each of the family the
/// RequestId was sent over: IPv4 and IPv6 share the queues in a mixed run) and returns their UDP
/// payloads; answers to another queue's queries go to that queue's inbox, and what other
/// queues handed to this one comes out first. Zero-copy where the driver has it, copy mode otherwise (veth).
///
/// Offers what Flow<Port> needs (kBurst, kStream, fd(), wants_write(), send(), receive(),
/// flush()) and bind_stats(), through which it counts frames that never reach the matcher.
/// Thread-safety: one thread. Hot path: send() and receive() never allocate or lock; each makes
/// at most one syscall (the TX kick copy mode needs, or the RX wake-up a zero-copy driver asks
/// for).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "perf/gun/frame.hpp"
#include "perf/gun/gun_stats.hpp"
#include "perf/gun/io_result.hpp"
#include "perf/gun/xdp_args.hpp"
#include "perf/gun/xdp_inbox.hpp"
#include "perf/gun/xdp_source.hpp"

namespace idpath::gun {

/// What every queue's frames share (xdp_source.hpp: per-family servers, next hops and sources,
/// the ports), the interface, and the hand-off between queues; built once by main(), read by
/// all ports.
struct XdpTarget : XdpAddressing {
    std::string ifname;
    XdpHandoff* handoff = nullptr; // more than one queue: answers that arrive on another queue
};

class XskPort {
public:
    static constexpr std::size_t kBurst = 32; // frames per TX kick / RX poll
    static constexpr bool kStream = false;
    /// UMEM frames per queue: half on the fill ring for RX, half for TX.
    static constexpr std::uint32_t kFrames = 4096;
    static constexpr std::uint32_t kFrameSize = 2048;

    /// Creates the UMEM and the socket on `queue` of target.ifname, zero-copy if the driver can,
    /// else copy mode, and inserts it into `xsks_map_fd`. `target` must outlive the port.
    static Result<XskPort, std::string> open(const XdpTarget& target, std::uint32_t queue, int xsks_map_fd);

    XskPort(XskPort&&) noexcept;
    XskPort& operator=(XskPort&&) noexcept;
    ~XskPort();

    int fd() const noexcept;
    bool wants_write() const noexcept { return false; }
    bool zero_copy() const noexcept;
    /// Where frames that never reach the matcher are counted (wrong destination, bad checksum).
    void bind_stats(WorkerStats& stats) noexcept;
    /// Given this queue's queries in flight, what its worker should wait for: at least 1 while
    /// another queue still waits for answers that may arrive here.
    std::uint32_t linger(std::uint32_t outstanding) noexcept;

    /// Sends each datagram in its own frame; count: how many went on the TX ring (the rest wait
    /// for TX frames to complete).
    IoResult send(std::span<const ByteSpan> datagrams) noexcept;
    /// Up to min(out.size(), kBurst) answer payloads, valid until the next call.
    IoResult receive(std::span<ByteSpan> out) noexcept;
    IoResult flush() noexcept { return {}; }

private:
    struct State;
    explicit XskPort(std::unique_ptr<State> state);
    std::unique_ptr<State> s_;
};

} // namespace idpath::gun
