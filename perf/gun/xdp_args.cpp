#include "perf/gun/xdp_args.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace idpath::gun {
namespace {

constexpr std::size_t kLow = 8; // the low 64 bits of a 16-octet address start here

std::uint64_t low64(const packet::IpAddress& a) noexcept
{
    std::uint64_t v = 0;
    for (std::size_t i = kLow; i < 16; ++i)
        v = v << 8 | a[i];
    return v;
}

void set_low64(packet::IpAddress& a, std::uint64_t v) noexcept
{
    for (std::size_t i = 16; i-- > kLow;) {
        a[i] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
}

template <class T>
std::optional<T> whole_number(std::string_view text) noexcept
{
    T v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return v;
}

} // namespace

std::optional<packet::MacAddress> parse_mac(std::string_view text) noexcept
{
    packet::MacAddress mac{};
    if (text.size() != 17)
        return std::nullopt;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0 && text[i * 3 - 1] != ':' && text[i * 3 - 1] != '-')
            return std::nullopt;
        unsigned v = 0;
        const char* p = text.data() + i * 3;
        const auto [end, ec] = std::from_chars(p, p + 2, v, 16);
        if (ec != std::errc{} || end != p + 2)
            return std::nullopt;
        mac[i] = static_cast<std::uint8_t>(v);
    }
    return mac;
}

std::optional<ParsedAddress> parse_address(std::string_view text) noexcept
{
    if (text.empty() || text.size() > 45)
        return std::nullopt;
    char buf[46];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    ParsedAddress r;
    std::uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        r.address = packet::map_ipv4(v4);
        return r;
    }
    if (inet_pton(AF_INET6, buf, r.address.data()) == 1) {
        r.ipv6 = true;
        return r;
    }
    return std::nullopt;
}

packet::IpAddress AddressRange::at(std::uint64_t i) const noexcept
{
    packet::IpAddress a = first;
    if (count > 1)
        set_low64(a, low64(first) + i % count); // cannot carry: ranges stay within the low 64 bits
    return a;
}

std::optional<AddressRange> parse_address_range(std::string_view text) noexcept
{
    AddressRange r;
    if (const auto dash = text.find('-'); dash != std::string_view::npos) {
        const auto a = parse_address(text.substr(0, dash));
        const auto b = parse_address(text.substr(dash + 1));
        if (!a || !b || a->ipv6 != b->ipv6 || std::memcmp(a->address.data(), b->address.data(), kLow) != 0)
            return std::nullopt;
        const std::uint64_t lo = low64(a->address), hi = low64(b->address);
        if (hi < lo || hi - lo >= kMaxAddressRange)
            return std::nullopt;
        r.first = a->address;
        r.ipv6 = a->ipv6;
        r.count = hi - lo + 1;
        return r;
    }
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
        const auto a = parse_address(text.substr(0, slash));
        const auto prefix = whole_number<unsigned>(text.substr(slash + 1));
        if (!a || !prefix)
            return std::nullopt;
        const unsigned bits = a->ipv6 ? 128 : 32;
        if (*prefix > bits || bits - *prefix > 64 || *prefix == 0)
            return std::nullopt;
        const unsigned host_bits = bits - *prefix;
        const std::uint64_t host_mask = host_bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << host_bits) - 1;
        r.first = a->address;
        r.ipv6 = a->ipv6;
        set_low64(r.first, low64(r.first) & ~host_mask);
        r.count = host_bits >= 32 ? kMaxAddressRange : std::uint64_t{1} << host_bits;
        return r;
    }
    const auto a = parse_address(text);
    if (!a)
        return std::nullopt;
    r.first = a->address;
    r.ipv6 = a->ipv6;
    r.count = 1;
    return r;
}

std::optional<PortRange> parse_port_range(std::string_view text) noexcept
{
    const auto dash = text.find('-');
    const auto lo = whole_number<std::uint16_t>(text.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : whole_number<std::uint16_t>(text.substr(dash + 1));
    if (!lo || !hi || *lo == 0 || *hi < *lo)
        return std::nullopt;
    return PortRange{*lo, *hi};
}

} // namespace idpath::gun
