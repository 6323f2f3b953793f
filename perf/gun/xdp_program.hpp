#pragma once
/// gun_xdp.bpf.c (embedded in the binary) loaded with libbpf and attached to one interface
/// through a BPF link: the kernel detaches it when the link's descriptor closes, so the program
/// goes with the process however that ends (return, SIGINT/SIGTERM, a crash or SIGKILL).
/// Thread-safety: setup only, one thread.

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/base/result.hpp"
#include "perf/gun/xdp_args.hpp"

struct bpf_object;
struct bpf_link;

namespace idpath::gun {

class GunXdpProgram {
public:
    /// Loads the program with the answers' source ports (the IPv4 and the IPv6 server's; 0 for a
    /// family without a server, whose traffic then all passes to the kernel) and destination
    /// ports (ours), and attaches it to `ifindex`: native (driver) mode first, generic (skb) mode
    /// when the driver has none. Fails if another XDP program is attached there.
    static Result<GunXdpProgram, std::string> attach(int ifindex, std::uint16_t server_port4,
                                                     std::uint16_t server_port6, PortRange ports);

    GunXdpProgram(GunXdpProgram&&) noexcept = default;
    GunXdpProgram& operator=(GunXdpProgram&&) noexcept = default;
    ~GunXdpProgram() = default;

    /// The XSKMAP: key RX queue, value AF_XDP socket.
    int xsks_map_fd() const noexcept { return xsks_fd_; }
    /// "native" or "generic".
    const char* mode() const noexcept { return native_ ? "native" : "generic"; }

private:
    GunXdpProgram() = default;

    struct ObjectDeleter {
        void operator()(bpf_object* o) const noexcept;
    };
    struct LinkDeleter {
        void operator()(bpf_link* l) const noexcept;
    };
    std::unique_ptr<bpf_object, ObjectDeleter> object_;
    std::unique_ptr<bpf_link, LinkDeleter> link_; // destroyed first: detaches
    int xsks_fd_ = -1;
    bool native_ = false;
};

} // namespace idpath::gun
