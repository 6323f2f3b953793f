#include "controlplane/app/dataplane_config.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "dataplane/wire/constants.hpp"

namespace idpath::app {

std::vector<std::uint16_t> dataplane_ports(const config::Config& cfg)
{
    std::vector<std::uint16_t> ports;
    for (const auto& e : cfg.service.udp)
        if (e.port() != 0 && std::find(ports.begin(), ports.end(), e.port()) == ports.end())
            ports.push_back(e.port());
    if (ports.empty())
        ports.push_back(wire::kDefaultPort);
    return ports;
}

std::string vdev_iface(const std::string& spec)
{
    static constexpr std::string_view kKey = ",iface=";
    const std::size_t at = spec.find(kKey);
    if (at == std::string::npos)
        return {};
    const std::size_t from = at + kKey.size();
    return spec.substr(from, spec.find(',', from) - from);
}

Result<bool, std::string> add_addresses(packet::PacketConfig& config,
                                        const std::vector<std::string>& ipv4,
                                        const std::vector<std::string>& ipv6)
{
    for (const auto& s : ipv4) {
        if (config.ipv4_count == packet::PacketConfig::kMaxAddresses)
            return Err{"more than " + std::to_string(packet::PacketConfig::kMaxAddresses) +
                       " IPv4 addresses: " + s};
        if (inet_pton(AF_INET, s.c_str(), config.ipv4[config.ipv4_count].data()) != 1)
            return Err{s + " is not an IPv4 address"};
        ++config.ipv4_count;
    }
    for (const auto& s : ipv6) {
        if (config.ipv6_count == packet::PacketConfig::kMaxAddresses)
            return Err{"more than " + std::to_string(packet::PacketConfig::kMaxAddresses) +
                       " IPv6 addresses: " + s};
        if (inet_pton(AF_INET6, s.c_str(), config.ipv6[config.ipv6_count].data()) != 1)
            return Err{s + " is not an IPv6 address"};
        ++config.ipv6_count;
    }
    return true;
}

bool has_vdev_arg(const std::string& spec, std::string_view key)
{
    std::size_t at = spec.find(',');
    while (at != std::string::npos) {
        if (spec.compare(at + 1, key.size(), key) == 0 && spec.size() > at + 1 + key.size() &&
            spec[at + 1 + key.size()] == '=')
            return true;
        at = spec.find(',', at + 1);
    }
    return false;
}

} // namespace idpath::app
