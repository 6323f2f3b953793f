#pragma once
/// Options of the XDP loader and their validation: pure code, no libbpf, unit-testable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/result.hpp"

namespace idpath::xdp {

/// Where the program runs: in the driver (native), in the generic SKB path, or native with a
/// fallback to generic when the driver has no XDP support (automatic).
enum class AttachMode { native, generic, automatic };

inline constexpr std::uint16_t default_service_port = 2641;

/// The service-port map's capacity; must match IDPATH_XDP_MAX_PORTS in xdp_shared.h.
inline constexpr std::size_t max_service_ports = 16;

struct XdpOptions {
    /// UDP destination ports steered to AF_XDP; everything else passes to the kernel.
    std::vector<std::uint16_t> ports{default_service_port};
    AttachMode mode = AttachMode::automatic;
    /// An idpath program left attached (a crashed run) is replaced; otherwise attach fails.
    bool replace_stale = true;
    /// Also replace a program that is not idpath's. Off: a foreign program makes attach fail.
    bool force = false;
    /// Service UDP arriving on a queue with no AF_XDP socket is dropped rather than passed to the
    /// kernel. Off by default, so a queue the data path does not poll is served by the sockets.
    bool drop_without_socket = false;
};

/// "native", "generic" or "auto"; nullopt for anything else.
std::optional<AttachMode> parse_attach_mode(std::string_view text);
std::string_view to_string(AttachMode mode);

/// A comma-separated list of ports ("2641,8000"); each in 1..65535, no duplicates, at most
/// max_service_ports. The error names the offending item.
Result<std::vector<std::uint16_t>, std::string> parse_ports(std::string_view text);

/// nullopt when the options can be attached; otherwise why not.
std::optional<std::string> validate(const XdpOptions& options);

} // namespace idpath::xdp
