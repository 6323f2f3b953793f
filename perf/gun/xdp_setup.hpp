#pragma once
/// Everything --xdp needs before the first frame: privileges, the interface (MAC, addresses,
/// queues), the server's MAC (each server's, in an IPv4/IPv6 mix), the XDP program attached, and
/// the frames' shared addressing.
/// Kept out of main.cpp so the composition root stays a composition.
/// Thread-safety: setup only, one thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dataplane/base/result.hpp"
#include "drivers/socket/address.hpp"
#include "perf/gun/options.hpp"
#include "perf/gun/xdp_program.hpp"
#include "perf/gun/xsk_port.hpp"

namespace idpath::gun {

struct XdpSetup {
    XdpTarget target;
    std::optional<GunXdpProgram> program; // detached (link closed) when the setup goes
    std::uint32_t queues = 1;
    std::unique_ptr<XdpHandoff> handoff; // target.handoff, with more than one queue
    std::string summary; // one line for stderr: interface, queues, XDP mode, MACs, addresses
    std::string warning; // for stderr, when some of the interface's queues go unwatched
};

struct SetupError {
    int status = 2; // the exit status: 2 arguments or privileges, 3 network
    std::string message;
};

/// Checks privileges first (AF_XDP and attaching XDP need root: CAP_NET_RAW, CAP_NET_ADMIN,
/// CAP_BPF), then inspects options.xdp_iface, picks each family's source addresses, resolves
/// each server's MAC unless --dst-mac gave it, and attaches the program. `server2`: the other
/// family's server of a mixed run (the frames then take a family per query).
Result<std::unique_ptr<XdpSetup>, SetupError> prepare_xdp(const Options& options, const socket::Endpoint& server,
                                                          const std::optional<socket::Endpoint>& server2);

/// "aa:bb:cc:dd:ee:ff".
std::string mac_text(const packet::MacAddress& mac);

} // namespace idpath::gun
