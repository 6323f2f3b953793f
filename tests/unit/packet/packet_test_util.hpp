#pragma once
// Shared by the packet tests: the node's configuration that golden_frames.hpp assumes, and an
// independent, deliberately naive Internet checksum to check the code under test against.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/packet/packet.hpp"

namespace idpath::packet::test {

inline PacketConfig our_config()
{
    PacketConfig c;
    c.mac = {0x02, 0, 0, 0, 0, 0x01};
    c.ipv4[0] = {192, 0, 2, 1};
    c.ipv4_count = 1;
    c.ipv6[0] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c.ipv6[1] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c.ipv6_count = 2;
    return c;
}

/// The client's side of the golden frames: lets a reply be re-parsed as a request to it.
inline PacketConfig client_config()
{
    PacketConfig c;
    c.mac = {0x02, 0, 0, 0, 0, 0x02};
    c.ports[0] = 40000;
    c.ipv4[0] = {198, 51, 100, 7};
    c.ipv4_count = 1;
    c.ipv6[0] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    c.ipv6_count = 1;
    return c;
}

/// RFC 1071, the textbook way: 16-bit words, 32-bit sum, fold, complement.
inline std::uint16_t ref_checksum(const std::vector<std::uint8_t>& data)
{
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < data.size(); i += 2) {
        const std::uint32_t hi = data[i];
        const std::uint32_t lo = i + 1 < data.size() ? data[i + 1] : 0;
        sum += (hi << 8) | lo;
    }
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

inline std::vector<std::uint8_t> slice(const std::uint8_t* p, std::size_t n)
{
    return std::vector<std::uint8_t>(p, p + n);
}

/// Checksum of an upper-layer message with its pseudo-header (RFC 768 / RFC 8200 section 8.1);
/// zero when the stored checksum is right.
inline std::uint16_t ref_l4_checksum(const std::uint8_t* ip, bool ipv6, std::uint8_t proto,
                                     const std::uint8_t* l4, std::size_t length)
{
    std::vector<std::uint8_t> v;
    if (ipv6) {
        v = slice(ip + 8, 32);
        v.push_back(static_cast<std::uint8_t>(length >> 24));
        v.push_back(static_cast<std::uint8_t>(length >> 16));
        v.push_back(static_cast<std::uint8_t>(length >> 8));
        v.push_back(static_cast<std::uint8_t>(length));
        v.insert(v.end(), {0, 0, 0, proto});
    } else {
        v = slice(ip + 12, 8);
        v.insert(v.end(), {0, proto, static_cast<std::uint8_t>(length >> 8),
                           static_cast<std::uint8_t>(length)});
    }
    v.insert(v.end(), l4, l4 + length);
    return ref_checksum(v);
}

inline std::uint16_t be16(const std::uint8_t* p)
{
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

} // namespace idpath::packet::test
