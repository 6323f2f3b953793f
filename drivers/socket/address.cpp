#include "drivers/socket/address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace idpath::socket {

std::uint16_t Endpoint::port() const noexcept
{
    if (family() == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    if (family() == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    return 0;
}

std::string Endpoint::to_string() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
        // Appended piecewise: g++ 12 at -O3 reports a false -Wrestrict on string operator+ chains.
        std::string s(buf);
        s += ':';
        s += std::to_string(port());
        return s;
    }
    if (family() == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
        std::string s("[");
        s += buf;
        s += "]:";
        s += std::to_string(port());
        return s;
    }
    return "?";
}

namespace {

bool parse_port(std::string_view s, std::uint16_t& port)
{
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || v > 65535)
        return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

std::optional<Endpoint> make_v4(const std::string& host, std::uint16_t port)
{
    Endpoint e;
    auto* sin = reinterpret_cast<sockaddr_in*>(&e.storage);
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1)
        return std::nullopt;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    e.length = sizeof(sockaddr_in);
    return e;
}

std::optional<Endpoint> make_v6(const std::string& host, std::uint16_t port)
{
    Endpoint e;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1)
        return std::nullopt;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    e.length = sizeof(sockaddr_in6);
    return e;
}

} // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port)
{
    std::uint16_t port = default_port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && (rest.front() != ':' || !parse_port(rest.substr(1), port)))
            return std::nullopt;
        return make_v6(std::string(text.substr(1, close - 1)), port);
    }
    const auto colons = std::count(text.begin(), text.end(), ':');
    if (colons > 1) // a bare IPv6 address
        return make_v6(std::string(text), port);
    if (colons == 1) {
        const auto c = text.find(':');
        if (!parse_port(text.substr(c + 1), port))
            return std::nullopt;
        text = text.substr(0, c);
    }
    return make_v4(std::string(text), port);
}

Endpoint endpoint_from(const sockaddr* sa, socklen_t len)
{
    Endpoint e;
    if (len > sizeof e.storage)
        len = sizeof e.storage;
    std::memcpy(&e.storage, sa, len);
    e.length = len;
    return e;
}

wire::SourceKey source_key(const sockaddr_storage& ss) noexcept
{
    wire::SourceKey k;
    if (ss.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        std::memcpy(k.address.data(), &sin6->sin6_addr, 16);
        k.port = ntohs(sin6->sin6_port);
    } else if (ss.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        k.address[10] = 0xff;
        k.address[11] = 0xff;
        std::memcpy(k.address.data() + 12, &sin->sin_addr, 4);
        k.port = ntohs(sin->sin_port);
    }
    return k;
}

wire::SourceKey source_key(const Endpoint& e) noexcept
{
    return source_key(e.storage);
}

} // namespace idpath::socket
