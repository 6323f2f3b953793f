#pragma once
/// Socket endpoints written as operators write them: "192.0.2.1:2641", "[2001:db8::1]:2641",
/// "0.0.0.0", "::" (the port defaulting), or an address family wildcard.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <sys/socket.h>

#include "dataplane/wire/reassembly.hpp"

namespace idpath::socket {

struct Endpoint {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const noexcept { return storage.ss_family; }
    std::uint16_t port() const noexcept;
    const sockaddr* addr() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    /// "192.0.2.1:2641" or "[2001:db8::1]:2641".
    std::string to_string() const;
};

/// Parses "a.b.c.d[:port]", "[v6][:port]" or a bare IPv6 address (no port). No name lookups.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port);

/// Builds an Endpoint from a kernel-filled address.
Endpoint endpoint_from(const sockaddr* sa, socklen_t len);

/// The reassembly key of a sender: IPv6 as is, IPv4 as ::ffff:a.b.c.d.
wire::SourceKey source_key(const Endpoint& e) noexcept;
/// The same from a kernel-filled address (recvmmsg's msg_name), without copying it first.
wire::SourceKey source_key(const sockaddr_storage& ss) noexcept;

} // namespace idpath::socket
