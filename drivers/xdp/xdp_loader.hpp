#pragma once
/// XdpProgram: idpath's XDP program (idpath_xdp.bpf.c, embedded in this library) loaded with
/// libbpf and attached to one interface for as long as the object lives.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "dataplane/base/result.hpp"
#include "drivers/xdp/xdp_options.hpp"

namespace idpath::xdp {

/// What failed: the call that failed is named in message; error is its errno (positive).
struct XdpError {
    std::string message;
    int error = 0;
};

/// Summed over CPUs. Every packet the program sees lands in exactly one of these.
struct XdpCounters {
    std::uint64_t redirected = 0; ///< service UDP handed to an AF_XDP socket
    std::uint64_t no_socket = 0;  ///< service UDP with no socket on its queue (passed or dropped)
    std::uint64_t not_ip = 0;     ///< ARP and other non-IP frames
    std::uint64_t not_udp = 0;    ///< ICMP, NDP, TCP, IPv6 extension headers
    std::uint64_t other_port = 0; ///< UDP to a port that is not a service port
    std::uint64_t fragment = 0;   ///< IPv4 fragments
    std::uint64_t malformed = 0;  ///< truncated headers
};

/// What is attached to an interface now, by mode; id 0 means none. Names are the kernel's
/// program names (IDPATH_XDP_PROG_NAME for ours).
struct AttachedXdp {
    std::uint32_t native_id = 0;
    std::uint32_t generic_id = 0;
    std::uint32_t offloaded_id = 0;
    std::string native_name;
    std::string generic_name;

    bool empty() const noexcept { return native_id == 0 && generic_id == 0 && offloaded_id == 0; }
};

/// Queries ifname in the caller's network namespace (what `ip link show` reports as xdp/
/// xdpgeneric/xdpoffload).
Result<AttachedXdp, XdpError> query_xdp(std::string_view ifname);

class XdpProgram {
public:
    /// Loads the program, fills its port and config maps, then attaches it to ifname in the
    /// caller's network namespace. A stale idpath program on the interface is replaced
    /// (atomically when in the same mode) if options.replace_stale; a foreign one only if
    /// options.force. Automatic mode tries native first, then generic.
    static Result<XdpProgram, XdpError> attach(std::string_view ifname, const XdpOptions& options);

    XdpProgram(XdpProgram&&) noexcept;
    XdpProgram& operator=(XdpProgram&&) noexcept;
    XdpProgram(const XdpProgram&) = delete;
    XdpProgram& operator=(const XdpProgram&) = delete;
    /// Detaches (see detach()); errors are ignored here.
    ~XdpProgram();

    /// Removes the program from the interface if it is still the one attached there (a program
    /// that replaced ours is left alone). Idempotent.
    Result<std::monostate, XdpError> detach();

    bool attached() const noexcept;
    /// The mode the program runs in: native or generic, never automatic.
    AttachMode mode() const noexcept;
    int ifindex() const noexcept;
    /// The kernel's id of the loaded program (as `bpftool prog show id N` and `ip link` show).
    std::uint32_t prog_id() const noexcept;

    /// Runs the program once on frame (BPF_PROG_TEST_RUN, RX queue 0, no interface traffic)
    /// and returns its verdict (XDP_PASS, XDP_DROP, XDP_REDIRECT). The counters count it.
    Result<std::uint32_t, XdpError> test_run(std::span<const std::uint8_t> frame) const;

    /// Per-CPU counters read now and summed.
    Result<XdpCounters, XdpError> counters() const;

    /// The XSKMAP ("xsks_map", key: RX queue, value: AF_XDP socket fd) for an AF_XDP port.
    int xsks_map_fd() const noexcept;
    /// Steers queue's service traffic to the bound AF_XDP socket xsk_fd (for a port of our own;
    /// DPDK inserts its sockets itself).
    Result<std::monostate, XdpError> insert_socket(std::uint32_t queue, int xsk_fd);
    /// Pins the XSKMAP at path (on a bpffs mount) for a port in another process; unpinned on
    /// detach.
    Result<std::monostate, XdpError> pin_xsks_map(const std::string& path);

private:
    struct State;
    explicit XdpProgram(std::unique_ptr<State> state);

    std::unique_ptr<State> state_;
};

} // namespace idpath::xdp
