#include "controlplane/config/schema.hpp"

#include <algorithm>
#include <array>

#include "dataplane/wire/constants.hpp"

namespace idpath::config {

namespace {

bool printable(char c)
{
    return c > 0x20 && c < 0x7f;
}

std::string check_node_id(std::string_view s)
{
    const bool ok = std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
    return ok ? std::string() : "may hold only letters, digits, '.', '_' and '-'";
}

std::string check_role(std::string_view s)
{
    if (s == "authoritative")
        return {};
    if (s == "mirror" || s == "recursive")
        return "role not supported yet";
    return "must be one of authoritative, mirror, recursive";
}

std::string check_printable(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), printable)
               ? std::string()
               : "may hold only printable ASCII without spaces";
}

std::string check_prefix(std::string_view s)
{
    // The prefix handle "0.NA/<prefix>" must itself be a valid handle.
    constexpr std::size_t kMaxPrefix = wire::kMaxHandleLength - 5;
    if (s.empty())
        return "a prefix must not be empty";
    if (s.size() > kMaxPrefix)
        return "a prefix is at most " + std::to_string(kMaxPrefix) + " octets";
    if (s.find('/') != std::string_view::npos)
        return "a prefix has no '/' (write 88.100.1, not 88.100.1/ or 0.NA/88.100.1)";
    return check_printable(s);
}

std::string check_path(std::string_view s)
{
    return s.find('\0') == std::string_view::npos ? std::string() : "a path cannot contain NUL";
}

std::string check_socket_path(std::string_view s)
{
    // sockaddr_un::sun_path holds 108 octets including the terminating NUL.
    if (s.front() != '/')
        return "must be an absolute path";
    if (s.size() > 107)
        return "is longer than the 107 octets a Unix socket path may have";
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c != 0x7f; })
               ? std::string()
               : "may not hold control characters";
}

constexpr std::string_view kDefaultListen = R"(["0.0.0.0:2641", "[::]:2641"])";

const std::array kSchema{
    KeySpec{"node.id", ValueKind::String, 1, 64, true, Reload::InitOnly, "string", "(required)",
            "Name of this node in logs, metrics and the admin API: letters, digits, '.', '_', '-'.",
            StringField{[](Config& c) -> std::string& { return c.node.id; }}, check_node_id},
    KeySpec{
        "node.role", ValueKind::String, 1, 32, false, Reload::InitOnly,
        "string: authoritative, mirror, recursive", "authoritative",
        "What this node serves (DESIGN.md section 1). Only authoritative is implemented; mirror "
        "and recursive are rejected.",
        StringField{[](Config& c) -> std::string& { return c.node.role; }}, check_role},
    KeySpec{
        "service.udp", ValueKind::EndpointList, 0, 64, false, Reload::InitOnly, "list of endpoints",
        kDefaultListen,
        "UDP addresses to answer on: \"a.b.c.d[:port]\" or \"[v6][:port]\" (port 2641 when "
        "omitted; 0 picks a free port). [] disables UDP.",
        EndpointsField{[](Config& c) -> std::vector<socket::Endpoint>& { return c.service.udp; }},
        check_printable},
    KeySpec{
        "service.tcp", ValueKind::EndpointList, 0, 64, false, Reload::InitOnly, "list of endpoints",
        kDefaultListen, "TCP addresses to answer on, written as for service.udp. [] disables TCP.",
        EndpointsField{[](Config& c) -> std::vector<socket::Endpoint>& { return c.service.tcp; }},
        check_printable},
    KeySpec{"service.udp_threads", ValueKind::Unsigned, 1, 64, false, Reload::InitOnly, "integer",
            "1", "Threads (and SO_REUSEPORT sockets) per UDP address.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.service.udp_threads; }}},
    KeySpec{
        "service.max_udp_datagrams", ValueKind::Unsigned, 1, 533, false, Reload::Reloadable,
        "integer", "8",
        "Largest answer sent over UDP, in 512-octet datagrams; a larger answer tells the client to "
        "use TCP. 533 datagrams carry the protocol's largest message.",
        UnsignedField{[](Config& c) -> std::uint32_t& { return c.service.max_udp_datagrams; }}},
    KeySpec{
        "service.expiration_seconds", ValueKind::Unsigned, 60, 604800, false, Reload::Reloadable,
        "integer", "43200",
        "Lifetime written into each response's ExpirationTime (now + this), as HANDLE.NET's 12 "
        "hours.",
        UnsignedField{[](Config& c) -> std::uint32_t& { return c.service.expiration_seconds; }}},
    KeySpec{
        "service.tcp_max_connections", ValueKind::Unsigned, 1, 1000000, false, Reload::InitOnly,
        "integer", "1024", "Open TCP connections at most; further connections are refused.",
        UnsignedField{[](Config& c) -> std::uint32_t& { return c.service.tcp_max_connections; }}},
    KeySpec{
        "service.tcp_idle_timeout_ms", ValueKind::Unsigned, 100, 3600000, false, Reload::InitOnly,
        "integer (ms)", "30000",
        "A TCP connection that completes no request within this time is closed.",
        UnsignedField{[](Config& c) -> std::uint32_t& { return c.service.tcp_idle_timeout_ms; }}},
    KeySpec{
        "site", ValueKind::Site, 0, 0, false, Reload::Reloadable, "site mapping",
        "(absent: GET_SITE_INFO is not supported)",
        "This node's HS_SITE: answers GET_SITE_INFO, and `primary` sets the AT flag on answers. "
        "Same form as an identifier file's \"site\" value (docs/data-format.md).",
        SiteField{[](Config& c) -> Config::Site& { return c.site; }}},
    KeySpec{
        "data.homed_prefixes", ValueKind::PrefixList, 0, 1000000, false, Reload::Reloadable,
        "list of prefixes", "[]",
        "Prefixes this node is responsible for (\"88.100.1\"); compared ignoring ASCII case. "
        "Identifiers under other prefixes are refused at load, and queries for them get 301.",
        StringsField{[](Config& c) -> std::vector<std::string>& { return c.data.homed_prefixes; }},
        check_prefix},
    KeySpec{"data.identifier_files", ValueKind::FileList, 0, 4096, false, Reload::Reloadable,
            "list of paths", "[]",
            "JSON-lines identifier files loaded at start and on reload, relative to this file's "
            "directory; each must exist and be readable.",
            PathsField{[](Config& c) -> std::vector<std::filesystem::path>& {
                return c.data.identifier_files;
            }},
            check_path},
    KeySpec{"admin.socket", ValueKind::String, 1, 107, false, Reload::InitOnly, "absolute path",
            "/run/idpath/idpathd.sock", "Unix socket of the admin API (idpathctl).",
            StringField{[](Config& c) -> std::string& { return c.admin.socket; }},
            check_socket_path},
};

std::string range_text(const KeySpec& k)
{
    switch (k.kind) {
    case ValueKind::Unsigned: return std::to_string(k.min) + ".." + std::to_string(k.max);
    case ValueKind::String: return std::to_string(k.min) + ".." + std::to_string(k.max) + " octets";
    case ValueKind::EndpointList:
    case ValueKind::PrefixList:
    case ValueKind::FileList:
        return std::to_string(k.min) + ".." + std::to_string(k.max) + " entries";
    case ValueKind::Site: return "see data-format.md";
    }
    return {};
}

} // namespace

std::span<const KeySpec> schema()
{
    return kSchema;
}

const KeySpec* find_key(std::string_view path)
{
    for (const KeySpec& k : kSchema)
        if (k.path == path)
            return &k;
    return nullptr;
}

bool is_section(std::string_view path)
{
    return std::any_of(kSchema.begin(), kSchema.end(), [&](const KeySpec& k) {
        return k.path.size() > path.size() && k.path.starts_with(path) &&
               k.path[path.size()] == '.';
    });
}

std::string describe_schema()
{
    std::string s = "| key | type | range | default | reload | description |\n"
                    "|---|---|---|---|---|---|\n";
    for (const KeySpec& k : kSchema) {
        const std::string def(k.default_text);
        s += "| `" + std::string(k.path) + "` | " + std::string(k.type_text) + " | " +
             range_text(k) + " | " + (def.starts_with("(") ? def : "`" + def + "`") + " | " +
             (k.reload == Reload::Reloadable ? "reload" : "restart") + " | " +
             std::string(k.description) + " |\n";
    }
    return s;
}

} // namespace idpath::config
