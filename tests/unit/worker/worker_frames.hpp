#pragma once
// Request frames for the worker tests: Ethernet (optionally VLAN-tagged), IPv4 or IPv6, UDP
// from the client of packet_test_util.hpp to our service port, checksummed with the tests'
// independent reference checksum.

#include <cstdint>
#include <utility>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "tests/unit/packet/packet_test_util.hpp"

namespace idpath::worker::test {

inline constexpr std::uint16_t kClientPort = 40000; // client_config()'s service port
inline constexpr std::uint16_t kServicePort = 2641;

using Tags = std::vector<std::pair<std::uint16_t, std::uint16_t>>; // {tpid, tci}

inline void put16(std::vector<std::uint8_t>& v, std::uint16_t x)
{
    v.push_back(static_cast<std::uint8_t>(x >> 8));
    v.push_back(static_cast<std::uint8_t>(x));
}

inline std::vector<std::uint8_t> ethernet(std::uint16_t ethertype, const Tags& tags)
{
    const auto ours = packet::test::our_config().mac;
    const auto client = packet::test::client_config().mac;
    std::vector<std::uint8_t> f(ours.begin(), ours.end());
    f.insert(f.end(), client.begin(), client.end());
    for (const auto& [tpid, tci] : tags) {
        put16(f, tpid);
        put16(f, tci);
    }
    put16(f, ethertype);
    return f;
}

inline void append_udp(std::vector<std::uint8_t>& f, ByteSpan payload, std::uint16_t sport)
{
    put16(f, sport);
    put16(f, kServicePort);
    put16(f, static_cast<std::uint16_t>(8 + payload.size()));
    put16(f, 0);
    f.insert(f.end(), payload.begin(), payload.end());
}

inline void set_udp_checksum(std::vector<std::uint8_t>& f, std::size_t ip, std::size_t udp,
                             bool ipv6)
{
    const std::uint16_t c = packet::test::ref_l4_checksum(f.data() + ip, ipv6, 17, f.data() + udp,
                                                          f.size() - udp);
    const std::uint16_t stored = c == 0 ? 0xffff : c;
    f[udp + 6] = static_cast<std::uint8_t>(stored >> 8);
    f[udp + 7] = static_cast<std::uint8_t>(stored);
}

inline std::vector<std::uint8_t> udp4_frame(ByteSpan payload, const Tags& tags = {},
                                            std::uint16_t sport = kClientPort)
{
    std::vector<std::uint8_t> f = ethernet(0x0800, tags);
    const std::size_t ip = f.size();
    const std::uint8_t client[] = {198, 51, 100, 7};
    const std::uint8_t ours[] = {192, 0, 2, 1};
    f.insert(f.end(), {0x45, 0});
    put16(f, static_cast<std::uint16_t>(20 + 8 + payload.size()));
    f.insert(f.end(), {0x12, 0x34, 0, 0, 57, 17, 0, 0});
    f.insert(f.end(), std::begin(client), std::end(client));
    f.insert(f.end(), std::begin(ours), std::end(ours));
    const std::uint16_t hc = packet::test::ref_checksum(packet::test::slice(f.data() + ip, 20));
    f[ip + 10] = static_cast<std::uint8_t>(hc >> 8);
    f[ip + 11] = static_cast<std::uint8_t>(hc);
    const std::size_t udp = f.size();
    append_udp(f, payload, sport);
    set_udp_checksum(f, ip, udp, false);
    return f;
}

inline std::vector<std::uint8_t> udp6_frame(ByteSpan payload, const Tags& tags = {})
{
    std::vector<std::uint8_t> f = ethernet(0x86dd, tags);
    const std::size_t ip = f.size();
    f.insert(f.end(), {0x60, 0, 0, 0});
    put16(f, static_cast<std::uint16_t>(8 + payload.size()));
    f.insert(f.end(), {17, 64});
    const auto client = packet::test::client_config().ipv6[0];
    const auto ours = packet::test::our_config().ipv6[0];
    f.insert(f.end(), client.begin(), client.end());
    f.insert(f.end(), ours.begin(), ours.end());
    const std::size_t udp = f.size();
    append_udp(f, payload, kClientPort);
    set_udp_checksum(f, ip, udp, true);
    return f;
}

} // namespace idpath::worker::test
