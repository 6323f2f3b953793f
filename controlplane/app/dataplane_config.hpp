#pragma once
/// Pure pieces of the DPDK mode's setup (controlplane/app/dpdk_mode.hpp), kept apart so they
/// build and are tested without DPDK.

#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/config/config.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/packet/packet.hpp"

namespace idpath::app {

/// The UDP ports the data plane serves: those of service.udp (port 0 aside), or 2641 when it
/// lists none.
std::vector<std::uint16_t> dataplane_ports(const config::Config& cfg);

/// The `iface=` of a vdev spec ("net_af_xdp0,iface=eth1,..."), empty if it has none.
std::string vdev_iface(const std::string& spec);

/// True when the vdev spec sets `key` ("xdp_prog" in "net_af_xdp0,iface=x,xdp_prog=/p.o").
bool has_vdev_arg(const std::string& spec, std::string_view key);

/// Adds text addresses to config.ipv4 / ipv6. The error names the address.
Result<bool, std::string> add_addresses(packet::PacketConfig& config,
                                        const std::vector<std::string>& ipv4,
                                        const std::vector<std::string>& ipv6);

} // namespace idpath::app
