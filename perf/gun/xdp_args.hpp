#pragma once
/// The values of --xdp's options that need more than a number: MAC addresses, source-address
/// ranges ("A-B", CIDR or one address) and port ranges ("LO-HI"). Pure parsing, unit-tested;
/// options.cpp turns a failure into a message naming the option.
/// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string_view>

#include "dataplane/packet/packet.hpp"

namespace idpath::gun {

/// "02:00:5e:10:00:01" (or '-' separated), case-insensitive.
std::optional<packet::MacAddress> parse_mac(std::string_view text) noexcept;

/// One IPv4 ("192.0.2.1") or IPv6 ("2001:db8::1", no brackets) address, IPv4-mapped for IPv4.
struct ParsedAddress {
    packet::IpAddress address{};
    bool ipv6 = false;
};
std::optional<ParsedAddress> parse_address(std::string_view text) noexcept;

/// A run of consecutive addresses of one family. Ranges of IPv6 addresses vary in the low 64
/// bits only, and every range is capped at 2^32 addresses: the generator uses a few anyway.
struct AddressRange {
    packet::IpAddress first{};
    std::uint64_t count = 0; // 0: none given (the interface's address is used)
    bool ipv6 = false;

    /// Address `i % count`.
    packet::IpAddress at(std::uint64_t i) const noexcept;
};
inline constexpr std::uint64_t kMaxAddressRange = std::uint64_t{1} << 32;

/// "A-B" (A <= B, same family, IPv6 differing in the low 64 bits only), "A/P" (the whole prefix,
/// host bits of A ignored), or "A".
std::optional<AddressRange> parse_address_range(std::string_view text) noexcept;

struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    std::uint32_t size() const noexcept { return std::uint32_t{last} - first + 1u; }
};
/// "LO-HI" with 1 <= LO <= HI <= 65535, or one port.
std::optional<PortRange> parse_port_range(std::string_view text) noexcept;

} // namespace idpath::gun
