#pragma once
/// idpath-gun's command line (docs/idpath-gun.md). Parsing is pure: no files opened, no names
/// resolved, so every rule is unit-tested; main() turns errors into exit status 2.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/result.hpp"
#include "perf/gun/xdp_args.hpp"

namespace idpath::gun {

/// The longest run allowed, and the bound of a run given only --count: load is never unbounded.
inline constexpr double kMaxDurationSeconds = 600;

struct Options {
    std::string server; // as written: "192.0.2.1", "[2001:db8::1]:2641", "::1"
    /// A second SERVER of the other address family (either may come first): an IPv4/IPv6 mix in
    /// one run. The sockets alternate between the two; --xdp sends both over every queue, each
    /// query's family from its RequestId (family.hpp). Empty: one server.
    std::string server2;
    std::vector<std::string> handle_files;
    std::vector<std::string> jsonl_files;
    std::vector<std::string> handles;
    double miss_ratio = 0;
    double zipf = 0;
    std::uint32_t window = 64; // closed loop: queries in flight per socket
    double rate = 0;           // open loop: queries per second, all sockets together; 0: closed loop
    std::uint32_t sockets = 4;
    std::uint32_t threads = 1;
    std::uint64_t count = 0;   // 0: no count bound
    double duration = 5;       // seconds of sending
    std::uint32_t timeout_ms = 1000;
    bool tcp = false;
    bool json = false;
    bool rd = false;           // ask for the request digest (RD)
    double interval = 1;       // seconds between interval lines; 0: none
    std::uint64_t seed = 1;
    std::vector<std::uint32_t> indexes; // index filter of every query
    std::vector<std::string> types;     // type filter of every query
    // AF_XDP (--xdp): one flow per queue instead of sockets; docs/idpath-gun.md "AF_XDP".
    std::string xdp_iface;                     // empty: kernel sockets
    std::uint32_t queues = 0;                  // 0: all the interface's queues
    std::optional<packet::MacAddress> dst_mac; // none: the neighbour table's entry for SERVER
    AddressRange src_ip4;                      // --src-ip of IPv4; count 0: the interface's address
    AddressRange src_ip6;                      // --src-ip of IPv6 (given once per family)
    PortRange src_ports{2000, 65535};
    bool help = false;
    bool version = false;

    bool open_loop() const noexcept { return rate > 0; }
    bool xdp() const noexcept { return !xdp_iface.empty(); }
    bool mixed() const noexcept { return !server2.empty(); }
    const AddressRange& src_ip(bool ipv6) const noexcept { return ipv6 ? src_ip6 : src_ip4; }
};

/// SERVER's family as written: true for IPv6 ("::1", "[2001:db8::1]:2641"), false for IPv4
/// ("192.0.2.1:2641"), nothing when the address part is not an address (main() says so).
std::optional<bool> server_is_ipv6(std::string_view server) noexcept;

/// Parses the arguments after the program name. "--name value" and "--name=value" both work.
/// Errors are one line naming the option: "--window: must be an integer 1..65536, got 0".
Result<Options, std::string> parse_options(std::span<const std::string_view> args);

/// The --help text.
std::string_view usage_text() noexcept;

} // namespace idpath::gun
