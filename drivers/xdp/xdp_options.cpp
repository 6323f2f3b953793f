#include "drivers/xdp/xdp_options.hpp"

#include <algorithm>
#include <charconv>

namespace idpath::xdp {

std::optional<AttachMode> parse_attach_mode(std::string_view text)
{
    if (text == "native")
        return AttachMode::native;
    if (text == "generic")
        return AttachMode::generic;
    if (text == "auto")
        return AttachMode::automatic;
    return std::nullopt;
}

std::string_view to_string(AttachMode mode)
{
    switch (mode) {
    case AttachMode::native:
        return "native";
    case AttachMode::generic:
        return "generic";
    case AttachMode::automatic:
        return "auto";
    }
    return "?";
}

Result<std::vector<std::uint16_t>, std::string> parse_ports(std::string_view text)
{
    std::vector<std::uint16_t> ports;
    while (true) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || ec != std::errc{} || end != item.data() + item.size() || value == 0
            || value > 65535)
            return Err(std::string("bad port '") + std::string(item) + "'");
        ports.push_back(static_cast<std::uint16_t>(value));
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    XdpOptions options;
    options.ports = ports;
    if (auto problem = validate(options))
        return Err(*problem);
    return ports;
}

std::optional<std::string> validate(const XdpOptions& options)
{
    if (options.ports.empty())
        return "no service port";
    if (options.ports.size() > max_service_ports)
        return "more than " + std::to_string(max_service_ports) + " service ports";
    for (auto it = options.ports.begin(); it != options.ports.end(); ++it) {
        if (*it == 0)
            return std::string("port 0 is not a service port");
        if (std::find(options.ports.begin(), it, *it) != it)
            return "duplicate port " + std::to_string(*it);
    }
    return std::nullopt;
}

} // namespace idpath::xdp
