#include "controlplane/config/schema.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <system_error>

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
    if (s == "authoritative" || s == "mirror" || s == "recursive")
        return {};
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

std::string check_snapshot_path(std::string_view s)
{
    if (s.empty())
        return {};
    if (s.front() != '/')
        return "must be an absolute path";
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c != 0x7f; })
               ? std::string()
               : "may not hold control characters";
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

template <std::size_t N>
std::string check_one_of(std::string_view s, const std::array<std::string_view, N>& allowed)
{
    if (std::find(allowed.begin(), allowed.end(), s) != allowed.end())
        return {};
    std::string list;
    for (const auto a : allowed)
        list += (list.empty() ? "" : ", ") + std::string(a);
    return "must be one of " + list;
}

std::string check_mode(std::string_view s)
{
    return check_one_of(s, std::array<std::string_view, 2>{"sockets", "dpdk"});
}

std::string check_neighbors(std::string_view s)
{
    return check_one_of(s, std::array<std::string_view, 3>{"auto", "answer", "kernel"});
}

std::string check_other_traffic(std::string_view s)
{
    return check_one_of(s, std::array<std::string_view, 2>{"drop", "exception"});
}

std::string check_lcores(std::string_view s)
{
    // EAL parses the full --lcores grammar; this only keeps shell and argv surprises out.
    return std::all_of(s.begin(), s.end(),
                       [](char c) {
                           return (c >= '0' && c <= '9') || c == '-' || c == ',' || c == '@' ||
                                  c == '(' || c == ')';
                       })
               ? std::string()
               : "may hold only digits and - , @ ( ) (EAL's --lcores syntax, e.g. \"0-3\")";
}

std::string check_device(std::string_view s)
{
    // A PCI address ("0000:01:00.0" or "01:00.0") or a vdev ("net_<driver><n>[,key=value...]").
    if (s.starts_with("net_"))
        return check_printable(s);
    const bool pci = s.size() >= 7 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':' || c == '.';
    });
    return pci ? std::string()
               : "is neither a PCI address (0000:01:00.0) nor a DPDK vdev (net_af_xdp0,iface=eth1)";
}

std::string check_ipv4(std::string_view s)
{
    in_addr a{};
    return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1
               ? std::string()
               : "is not an IPv4 address (a.b.c.d)";
}

std::string check_ipv6(std::string_view s)
{
    in6_addr a{};
    return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1 ? std::string()
                                                                  : "is not an IPv6 address";
}

std::string check_interface_prefix(std::string_view s)
{
    // IFNAMSIZ is 16 with the NUL; two digits of port number follow the prefix.
    if (s.size() > 13)
        return "is longer than 13 octets (an interface name is at most 15)";
    return std::all_of(s.begin(), s.end(),
                       [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                                  c == '_';
                       })
               ? std::string()
               : "may hold only a-z, 0-9, '-' and '_'";
}

std::string check_absolute_dir(std::string_view s)
{
    if (s.empty())
        return "must not be empty";
    return check_snapshot_path(s);
}

std::string check_upstream(std::string_view s)
{
    if (s.empty())
        return {};
    return socket::parse_endpoint(s, wire::kDefaultPort) ? std::string()
                                                         : "expected \"a.b.c.d[:port]\" or \"[v6][:port]\"";
}

std::string check_admin_spec(std::string_view s)
{
    if (s.empty())
        return {};
    const auto colon = s.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon + 1 == s.size())
        return "expected INDEX:HANDLE, e.g. \"300:0.NA/88.100.1\"";
    for (char c : s.substr(0, colon))
        if (c < '0' || c > '9')
            return "expected INDEX:HANDLE: the index is a decimal number";
    return check_printable(s);
}

std::string check_serve_admin(std::string_view s)
{
    const auto space = s.find(' ');
    if (std::string err = check_admin_spec(s.substr(0, space)); !err.empty() || s.empty())
        return s.empty() ? "expected INDEX:HANDLE [KEYFILE]" : err;
    if (space != std::string_view::npos)
        return check_snapshot_path(s.substr(space + 1));
    return {};
}

std::string check_auth(std::string_view s)
{
    return check_one_of(s, std::array<std::string_view, 2>{"HS_PUBKEY", "HS_SECKEY"});
}

std::string check_format(std::string_view s)
{
    return check_one_of(s, std::array<std::string_view, 2>{"binary", "json"});
}

std::string check_syslog_address(std::string_view s)
{
    if (s.empty())
        return {};
    auto hp = parse_host_port(s, 514);
    return hp ? std::string() : hp.error();
}

bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

std::string check_brokers(std::string_view s)
{
    if (s.empty())
        return {};
    for (std::size_t at = 0;;) {
        const auto comma = s.find(',', at);
        const std::string_view one = s.substr(at, comma == std::string_view::npos ? s.npos : comma - at);
        if (one.empty())
            return "has an empty entry (write host:port,host:port)";
        if (auto hp = parse_host_port(one, 9092); !hp)
            return hp.error();
        if (comma == std::string_view::npos)
            return {};
        at = comma + 1;
    }
}

std::string check_topic(std::string_view s)
{
    // Kafka's own rule for topic names.
    return std::all_of(s.begin(), s.end(), host_char) ? std::string()
                                                        : "may hold only letters, digits, '.', '_' and '-'";
}

std::string check_kafka_property(std::string_view s)
{
    const auto eq = s.find('=');
    if (eq == std::string_view::npos || eq == 0)
        return "must be key=value (a librdkafka setting, e.g. compression.type=zstd)";
    const std::string_view key = s.substr(0, eq);
    const bool key_ok = std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    });
    if (!key_ok)
        return "the key may hold only a-z, 0-9, '.' and '_'";
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c != 0x7f; })
               ? std::string()
               : "may not hold control characters";
}

std::string check_http_url(std::string_view s)
{
    if (s.empty())
        return {};
    std::string_view rest = s;
    if (rest.starts_with("http://"))
        rest.remove_prefix(7);
    else if (rest.starts_with("https://"))
        rest.remove_prefix(8);
    else
        return "must start with http:// or https://";
    const std::string_view authority = rest.substr(0, rest.find('/'));
    if (authority.empty())
        return "has no host";
    return check_printable(s);
}

std::string check_table_name(std::string_view s)
{
    const auto dot = s.find('.');
    if (dot != std::string_view::npos && (dot == 0 || dot + 1 == s.size() || s.find('.', dot + 1) != s.npos))
        return "must be table or database.table";
    return std::all_of(s.begin(), s.end(),
                       [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                  (c >= '0' && c <= '9') || c == '_' || c == '.';
                       })
               ? std::string()
               : "may hold only letters, digits and '_' (and one '.')";
}

std::string check_server_name(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), host_char) ? std::string()
                                                        : "may hold only letters, digits, '.', '-' and '_'";
}

std::string check_no_control(std::string_view s)
{
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
        "What this node serves (DESIGN.md section 1): authoritative (its own data), mirror (a "
        "replica of replication.upstream, docs/replication.md) or recursive (any handle, resolved "
        "from recursion.roots down and cached, docs/recursion.md).",
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
        "service.tcp_punt_timeout_ms", ValueKind::Unsigned, 100, 600000, false, Reload::InitOnly,
        "integer (ms)", "10000",
        "Recursive role: a TCP connection whose request went to a resolver thread is closed if no "
        "answer comes within this time. Keep it above one upstream question's worst case "
        "(recursion.udp_tries x udp_timeout_ms + tcp_timeout_ms). docs/recursion.md.",
        UnsignedField{[](Config& c) -> std::uint32_t& { return c.service.tcp_punt_timeout_ms; }}},
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
    KeySpec{"data.snapshot", ValueKind::String, 0, 4096, false, Reload::Reloadable, "absolute path",
            "\"\"",
            "Snapshot file of the table (empty: none; docs/snapshot-format.md). When set and the file exists, the "
            "table is loaded from it at start and on reload instead of from data.identifier_files "
            "(data.homed_prefixes are added to the snapshot's); `idpathctl snapshot save` writes it. "
            "A damaged snapshot is refused and idpathd does not start (a reload keeps serving).",
            StringField{[](Config& c) -> std::string& { return c.data.snapshot; }},
            check_snapshot_path},
    KeySpec{"data.snapshot_interval_seconds", ValueKind::Unsigned, 0, 604800, false, Reload::Reloadable,
            "integer", "0",
            "Saves the serving table to data.snapshot this often when it changed since the last save "
            "(updates, reloads), so updates survive a restart (0: only `idpathctl snapshot save`). "
            "Needs data.snapshot.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.data.snapshot_interval_seconds; }}},
    KeySpec{"data.journal", ValueKind::String, 0, 4096, false, Reload::InitOnly, "absolute path", "\"\"",
            "Change journal (empty: none; docs/operations.md, \"Journal\"): every change an update applies is "
            "appended and fsynced before the reply, and replayed over the table at start and on reload. "
            "A journal damaged other than at its tail is refused and idpathd does not start.",
            StringField{[](Config& c) -> std::string& { return c.data.journal; }},
            check_snapshot_path},
    KeySpec{"data.journal_segment_mb", ValueKind::Unsigned, 0, 65536, false, Reload::InitOnly, "integer (MiB)", "256",
            "Seals the journal's active file once an append takes it past this many MiB: it is renamed "
            "`<data.journal>.<first txn, 20 digits>` and a new active file starts (0: one file that grows "
            "forever). Sealed segments are what data.journal_retain_days deletes.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.data.journal_segment_mb; }}},
    KeySpec{"data.journal_retain_days", ValueKind::Unsigned, 0, 36500, false, Reload::InitOnly, "integer (days)", "0",
            "Deletes a sealed journal segment once its newest entry is older than this many days and "
            "data.snapshot holds all its changes (0: keep every segment). The registration log must be "
            "kept six months: at least 183. Needs data.journal and data.snapshot.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.data.journal_retain_days; }}},
    KeySpec{"admin.socket", ValueKind::String, 1, 107, false, Reload::InitOnly, "absolute path",
            "/run/idpath/idpathd.sock", "Unix socket of the admin API (idpathctl).",
            StringField{[](Config& c) -> std::string& { return c.admin.socket; }},
            check_socket_path},
    KeySpec{"dataplane.mode", ValueKind::String, 1, 16, false, Reload::InitOnly,
            "string: sockets, dpdk", "sockets",
            "Where UDP queries are answered: `sockets` (kernel sockets, service.udp) or `dpdk` "
            "(DPDK workers on dataplane.devices; service.tcp stays on kernel sockets). docs/dpdk.md.",
            StringField{[](Config& c) -> std::string& { return c.dataplane.mode; }}, check_mode},
    KeySpec{"dataplane.lcores", ValueKind::String, 1, 128, false, Reload::InitOnly,
            "EAL --lcores", "\"0-1\"",
            "Cores for DPDK: the first lcore runs the control threads (admin, TCP, stats), every "
            "other lcore a worker polling one queue of every device. At least two lcores.",
            StringField{[](Config& c) -> std::string& { return c.dataplane.lcores; }},
            check_lcores},
    KeySpec{"dataplane.file_prefix", ValueKind::String, 1, 32, false, Reload::InitOnly, "string",
            "idpath", "EAL --file-prefix: tells apart the hugepage files of DPDK processes.",
            StringField{[](Config& c) -> std::string& { return c.dataplane.file_prefix; }},
            check_node_id},
    KeySpec{"dataplane.hugepages", ValueKind::Boolean, 0, 0, false, Reload::InitOnly, "boolean",
            "true",
            "Back packet buffers with hugepages (reserve them first, docs/dpdk.md); false runs "
            "EAL with --no-huge (tests, small hosts; slower).",
            BoolField{[](Config& c) -> bool& { return c.dataplane.hugepages; }}},
    KeySpec{"dataplane.memory_mb", ValueKind::Unsigned, 64, 1048576, false, Reload::InitOnly,
            "integer (MiB)", "512", "Memory EAL reserves (-m) for mbuf pools and rings.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.dataplane.memory_mb; }}},
    KeySpec{"dataplane.devices", ValueKind::StringList, 0, 16, false, Reload::InitOnly,
            "list of devices", "[]",
            "Ports the workers poll: PCI addresses bound to vfio-pci (\"0000:01:00.0\") or DPDK "
            "vdevs (\"net_af_xdp0,iface=eth1\", \"net_af_packet0,iface=eth1\", "
            "\"net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap\", \"net_tap0\"). net_af_xdp gets "
            "idpath's XDP program unless it names xdp_prog=. Required in dpdk mode.",
            StringsField{[](Config& c) -> std::vector<std::string>& { return c.dataplane.devices; }},
            check_device},
    KeySpec{"dataplane.rx_ring", ValueKind::Unsigned, 64, 16384, false, Reload::InitOnly,
            "integer", "1024", "RX descriptors per queue.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.dataplane.rx_ring; }}},
    KeySpec{"dataplane.tx_ring", ValueKind::Unsigned, 64, 16384, false, Reload::InitOnly,
            "integer", "1024", "TX descriptors per queue.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.dataplane.tx_ring; }}},
    KeySpec{"dataplane.ipv4", ValueKind::StringList, 0, 4, false, Reload::InitOnly,
            "list of IPv4 addresses", "[]",
            "Addresses the workers answer on (queries, ARP, ping). Empty: the IPv4 addresses the "
            "kernel has on the devices' iface= interfaces at start.",
            StringsField{[](Config& c) -> std::vector<std::string>& { return c.dataplane.ipv4; }},
            check_ipv4},
    KeySpec{"dataplane.ipv6", ValueKind::StringList, 0, 4, false, Reload::InitOnly,
            "list of IPv6 addresses", "[]",
            "As dataplane.ipv4, for IPv6 (list the link-local address too where neighbours "
            "solicit it).",
            StringsField{[](Config& c) -> std::vector<std::string>& { return c.dataplane.ipv6; }},
            check_ipv6},
    KeySpec{"dataplane.neighbors", ValueKind::String, 1, 16, false, Reload::InitOnly,
            "string: auto, answer, kernel", "auto",
            "Who answers ARP, neighbour solicitations and pings: `answer` (the workers), `kernel` "
            "(left alone), `auto` (the kernel on net_af_xdp and net_af_packet, which it shares; "
            "the workers elsewhere).",
            StringField{[](Config& c) -> std::string& { return c.dataplane.neighbors; }},
            check_neighbors},
    KeySpec{"dataplane.other_traffic", ValueKind::String, 1, 16, false, Reload::InitOnly,
            "string: drop, exception", "drop",
            "On ports DPDK owns whole (PCI, net_tap), traffic that is not a query, ARP, NDP or "
            "ping: `drop` it, or hand it to the kernel through a net_tap exception interface per "
            "device (dataplane.exception_prefix + index), which carries the host's TCP and SSH.",
            StringField{[](Config& c) -> std::string& { return c.dataplane.other_traffic; }},
            check_other_traffic},
    KeySpec{"dataplane.exception_prefix", ValueKind::String, 1, 13, false, Reload::InitOnly,
            "interface name prefix", "idpx",
            "Exception interfaces are named this plus the device's index (idpx0, idpx1, ...).",
            StringField{[](Config& c) -> std::string& { return c.dataplane.exception_prefix; }},
            check_interface_prefix},
    KeySpec{"dataplane.xdp_object", ValueKind::String, 1, 4095, false, Reload::InitOnly,
            "absolute path", "/run/idpath/idpath_xdp.bpf.o",
            "Where idpathd writes its built-in XDP program for net_af_xdp to load (xdp_prog=).",
            StringField{[](Config& c) -> std::string& { return c.dataplane.xdp_object; }},
            check_path},
    KeySpec{"dataplane.log_level", ValueKind::Unsigned, 1, 8, false, Reload::InitOnly, "integer",
            "4", "EAL's log level (1 emergency .. 8 debug); DPDK logs go to stderr.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.dataplane.log_level; }}},
    KeySpec{"dataplane.idle_sleep_us", ValueKind::Unsigned, 0, 100000, false, Reload::InitOnly,
            "integer (µs)", "0",
            "A worker whose queues stayed empty for 1024 polls sleeps this long before polling "
            "again: saves a core on a quiet node, costs up to this much latency on the first "
            "query after a lull. 0 busy-polls (the lowest latency; a core per worker stays busy).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.dataplane.idle_sleep_us; }}},
    KeySpec{"replication.upstream", ValueKind::String, 0, 64, false, Reload::InitOnly, "endpoint", "\"\"",
            "The upstream primary's TCP admin interface: \"a.b.c.d[:port]\" or \"[v6][:port]\" (port 2641 "
            "when omitted). Set for node.role mirror: the table is replicated from it with HANDLE.NET's "
            "OC_DUMP_HANDLES and OC_RETRIEVE_TXN_LOG (docs/replication.md).",
            StringField{[](Config& c) -> std::string& { return c.replication.upstream; }}, check_upstream},
    KeySpec{"replication.upstream_key", ValueKind::String, 0, 4096, false, Reload::InitOnly, "absolute path",
            "\"\"",
            "The upstream server's public key (PEM, or HANDLE.NET's pubkey.bin / the key record of its "
            "HS_SITE): the replication stream's TLS certificate must carry it. Required with "
            "replication.upstream.",
            StringField{[](Config& c) -> std::string& { return c.replication.upstream_key; }}, check_snapshot_path},
    KeySpec{"replication.admin", ValueKind::String, 0, 512, false, Reload::InitOnly, "string", "\"\"",
            "The replication admin this node authenticates as, HANDLE.NET's INDEX:HANDLE "
            "(\"300:0.NA/88.100.1\"); the upstream must list it in replication_admins.",
            StringField{[](Config& c) -> std::string& { return c.replication.admin; }}, check_admin_spec},
    KeySpec{"replication.admin_key", ValueKind::String, 0, 4096, false, Reload::InitOnly, "absolute path",
            "\"\"",
            "The admin's key: its private key (PEM, or HANDLE.NET's admpriv.bin) for HS_PUBKEY, "
            "or the secret for HS_SECKEY. Readable by idpathd only.",
            StringField{[](Config& c) -> std::string& { return c.replication.admin_key; }}, check_snapshot_path},
    KeySpec{"replication.admin_key_passphrase_file", ValueKind::String, 0, 4096, false, Reload::InitOnly,
            "absolute path", "\"\"",
            "A file whose first line is the passphrase of an encrypted HANDLE.NET admpriv.bin (hdl-keygen's "
            "default form, PBKDF2-AES). Readable by idpathd only.",
            StringField{[](Config& c) -> std::string& { return c.replication.admin_key_passphrase_file; }},
            check_snapshot_path},
    KeySpec{"replication.auth", ValueKind::String, 1, 16, false, Reload::InitOnly, "string: HS_PUBKEY, HS_SECKEY",
            "HS_PUBKEY", "How the admin answers the upstream's challenge: an RSA signature or a secret key.",
            StringField{[](Config& c) -> std::string& { return c.replication.auth; }}, check_auth},
    KeySpec{"replication.state", ValueKind::String, 0, 4096, false, Reload::InitOnly, "absolute path", "\"\"",
            "The replication state file (last transaction id and date), written after every applied pull so "
            "a restart resumes without a full dump. Required with replication.upstream.",
            StringField{[](Config& c) -> std::string& { return c.replication.state; }}, check_snapshot_path},
    KeySpec{"replication.interval_seconds", ValueKind::Unsigned, 1, 86400, false, Reload::InitOnly, "integer (s)",
            "5", "The transaction log is pulled this often (`idpathctl sync now` pulls at once).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.interval_seconds; }}},
    KeySpec{"replication.num_servers", ValueKind::Unsigned, 1, 65536, false, Reload::InitOnly, "integer", "1",
            "Sharded replication: the fleet splits the table into this many parts by the HANDLE.NET server "
            "hash; 1 replicates everything.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.num_servers; }}},
    KeySpec{"replication.server_num", ValueKind::Unsigned, 0, 65535, false, Reload::InitOnly, "integer", "0",
            "The part this node replicates, 0 .. num_servers - 1.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.server_num; }}},
    KeySpec{"replication.hash_type", ValueKind::Unsigned, 0, 2, false, Reload::InitOnly, "integer", "2",
            "What the shard hash covers: 0 the prefix, 1 the suffix, 2 the whole handle (HANDLE.NET's default).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.hash_type; }}},
    KeySpec{"replication.timeout_ms", ValueKind::Unsigned, 100, 600000, false, Reload::InitOnly, "integer (ms)",
            "30000", "An upstream that sends nothing for this long is dropped and the pull retried.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.timeout_ms; }}},
    KeySpec{"replication.backoff_min_ms", ValueKind::Unsigned, 10, 3600000, false, Reload::InitOnly,
            "integer (ms)", "1000",
            "After a failed pull the next waits this long, doubling per failure up to backoff_max_ms, with "
            "jitter (x0.5..1).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.backoff_min_ms; }}},
    KeySpec{"replication.backoff_max_ms", ValueKind::Unsigned, 10, 86400000, false, Reload::InitOnly,
            "integer (ms)", "300000", "The longest wait between failed pulls.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.backoff_max_ms; }}},
    KeySpec{"replication.allow_signed_blocks", ValueKind::Boolean, 0, 0, false, Reload::InitOnly, "boolean",
            "false",
            "Accept the signed-plaintext stream a primary below protocol 2.8 sends instead of TLS. Off: each "
            "block is signed alone and the dump's end is not, so a party on the path could cut it short.",
            BoolField{[](Config& c) -> bool& { return c.replication.allow_signed_blocks; }}},
    KeySpec{"replication.serve.listen", ValueKind::EndpointList, 0, 16, false, Reload::InitOnly,
            "list of endpoints", "[]",
            "TCP addresses where this node serves replication to mirrors (OC_DUMP_HANDLES, "
            "OC_RETRIEVE_TXN_LOG, OC_GET_NEXT_TXN_ID) as a HANDLE.NET primary does; advertise them as the "
            "site's admin interface. [] : off. Needs data.journal, serve.key and serve.admins.",
            EndpointsField{[](Config& c) -> std::vector<socket::Endpoint>& { return c.replication.serve.listen; }},
            check_printable},
    KeySpec{"replication.serve.key", ValueKind::String, 0, 4096, false, Reload::InitOnly, "absolute path", "\"\"",
            "This server's private key (PEM or HANDLE.NET privkey.bin): signs challenges and replies, and "
            "makes the stream's TLS certificate. Its public half goes in the site information mirrors trust.",
            StringField{[](Config& c) -> std::string& { return c.replication.serve.key; }}, check_snapshot_path},
    KeySpec{"replication.serve.key_passphrase_file", ValueKind::String, 0, 4096, false, Reload::InitOnly,
            "absolute path", "\"\"",
            "A file whose first line is the passphrase of an encrypted HANDLE.NET privkey.bin given as "
            "replication.serve.key. Readable by idpathd only.",
            StringField{[](Config& c) -> std::string& { return c.replication.serve.key_passphrase_file; }},
            check_snapshot_path},
    KeySpec{"replication.serve.admins", ValueKind::StringList, 0, 256, false, Reload::InitOnly,
            "list of strings", "[]",
            "Replication admins allowed to pull: \"INDEX:HANDLE\" (the key is that value of the handle in "
            "this node's table, as HANDLE.NET resolves it) or \"INDEX:HANDLE KEYFILE\" (a public key or "
            "secret file).",
            StringsField{[](Config& c) -> std::vector<std::string>& { return c.replication.serve.admins; }},
            check_serve_admin},
    KeySpec{"replication.serve.max_connections", ValueKind::Unsigned, 1, 4096, false, Reload::InitOnly,
            "integer", "16", "Replication connections open at once; more are closed at once and counted.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.replication.serve.max_connections; }}},
    KeySpec{"recursion.roots", ValueKind::EndpointList, 1, 16, false, Reload::InitOnly, "list of endpoints",
            "(required with role recursive)",
            "The global (root / top-level) Handle servers a recursive node starts every resolution from, "
            "each a one-server site on UDP and TCP: \"a.b.c.d[:port]\" or \"[v6][:port]\" (port 2641 when "
            "omitted). Required with node.role recursive.",
            EndpointsField{[](Config& c) -> std::vector<socket::Endpoint>& { return c.recursion.roots; }},
            check_printable},
    KeySpec{"recursion.threads", ValueKind::Unsigned, 1, 64, false, Reload::InitOnly, "integer", "2",
            "Resolver threads: misses resolved upstream at once (each blocks for its round trips).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.threads; }}},
    KeySpec{"recursion.udp_timeout_ms", ValueKind::Unsigned, 10, 60000, false, Reload::InitOnly, "integer (ms)",
            "1000", "How long one UDP question upstream waits for its answer.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.udp_timeout_ms; }}},
    KeySpec{"recursion.udp_tries", ValueKind::Unsigned, 0, 10, false, Reload::InitOnly, "integer", "2",
            "UDP tries per upstream server before the question goes over TCP (0: TCP only).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.udp_tries; }}},
    KeySpec{"recursion.tcp_timeout_ms", ValueKind::Unsigned, 10, 600000, false, Reload::InitOnly, "integer (ms)",
            "5000", "How long one TCP exchange upstream (connect, question, answer) may take.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.tcp_timeout_ms; }}},
    KeySpec{"recursion.max_hops", ValueKind::Unsigned, 1, 40, false, Reload::InitOnly, "integer", "10",
            "Referral levels one resolution may walk (HANDLE.NET servers stop at 10, clients at 40).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.max_hops; }}},
    KeySpec{"recursion.max_ttl", ValueKind::Unsigned, 1, 172800, false, Reload::InitOnly, "integer (s)", "172800",
            "Caps how long any answer is cached, whatever its values' TTLs say (HANDLE.NET's "
            "MAX_RECOGNIZED_TTL: 2 days).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.max_ttl; }}},
    KeySpec{"recursion.negative_ttl", ValueKind::Unsigned, 0, 86400, false, Reload::InitOnly, "integer (s)", "60",
            "How long RC_HANDLE_NOT_FOUND and RC_VALUES_NOT_FOUND answers are kept (the Handle protocol "
            "carries no negative TTL). 0: not cached.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.negative_ttl; }}},
    KeySpec{"recursion.cache_entries", ValueKind::Unsigned, 1, 100000000, false, Reload::InitOnly, "integer",
            "1000000",
            "Answers kept: in the engine's cache (least recently used beyond this) and, for positive "
            "answers, in the serving table (beyond this, answered but not inserted; counted).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.cache_entries; }}},
    KeySpec{"recursion.ring_entries", ValueKind::Unsigned, 64, 1048576, false, Reload::InitOnly, "integer", "4096",
            "Misses each UDP serving thread's ring holds on the way to the resolver threads (2 KiB "
            "each; rounded up to a power of two). A full ring drops the request, counted "
            "(idpathctl stats: punt_dropped).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.recursion.ring_entries; }}},
    KeySpec{"mirror.ring_records", ValueKind::Unsigned, 1024, 16777216, false, Reload::InitOnly,
            "integer", "65536",
            "Log records each serving thread's ring holds (rounded up to a power of two; 256 "
            "octets each). A full ring loses the record, counted, and the seq gap shows it. "
            "Every mirror.* key needs a restart for now. docs/log-mirror.md.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.ring_records; }}},
    KeySpec{"mirror.heartbeat_seconds", ValueKind::Unsigned, 1, 3600, false, Reload::InitOnly,
            "integer (s)", "5",
            "Each serving thread writes a heartbeat record (its produced and lost counts) this "
            "often, so the platform sees gaps and silent threads.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.heartbeat_seconds; }}},
    KeySpec{"mirror.batch_records", ValueKind::Unsigned, 1, 65536, false, Reload::InitOnly,
            "integer", "4096",
            "The exporter cuts a batch (one write, message or insert per sink) at this many "
            "records and events, or after mirror.batch_ms.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.batch_records; }}},
    KeySpec{"mirror.batch_ms", ValueKind::Unsigned, 1, 60000, false, Reload::InitOnly,
            "integer (ms)", "200", "A batch is cut when its oldest record has waited this long, full or not.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.batch_ms; }}},
    KeySpec{"mirror.spool.directory", ValueKind::String, 1, 4095, false, Reload::InitOnly,
            "absolute path", "/var/lib/idpath/spool",
            "Where a sink that is down or behind spools its batches (a subdirectory per sink, "
            "created if missing); replayed in order when it is back, marked replayed.",
            StringField{[](Config& c) -> std::string& { return c.mirror.spool.directory; }},
            check_absolute_dir},
    KeySpec{"mirror.spool.max_mb", ValueKind::Unsigned, 0, 16777216, false, Reload::InitOnly,
            "integer (MiB)", "1024",
            "Disk each sink's spool may take; when full, new batches are dropped and counted "
            "(dropped.spool_full). 0: no spool (a sink that is down loses records, counted).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.spool.max_mb; }}},
    KeySpec{"mirror.file.directory", ValueKind::String, 0, 4095, false, Reload::InitOnly,
            "absolute path", "\"\"",
            "File sink: writes zstd-compressed, hash-chained log files here (empty: off). "
            "`idpathctl logs verify DIR` checks them.",
            StringField{[](Config& c) -> std::string& { return c.mirror.file.directory; }},
            check_snapshot_path},
    KeySpec{"mirror.file.format", ValueKind::String, 1, 16, false, Reload::InitOnly,
            "string: binary, json", "binary",
            "Encoding of the files: the compact binary batches or JSON lines (docs/log-schema.md).",
            StringField{[](Config& c) -> std::string& { return c.mirror.file.format; }},
            check_format},
    KeySpec{"mirror.file.rotate_mb", ValueKind::Unsigned, 0, 65536, false, Reload::InitOnly,
            "integer (MiB)", "256",
            "A file is closed and a new one started at this size, or after rotate_seconds (0: no "
            "size limit).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.file.rotate_mb; }}},
    KeySpec{"mirror.file.rotate_seconds", ValueKind::Unsigned, 0, 604800, false, Reload::InitOnly,
            "integer (s)", "3600",
            "A file is closed and a new one started at this age, or at rotate_mb (0: no age "
            "limit).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.file.rotate_seconds; }}},
    KeySpec{"mirror.file.retention_days", ValueKind::Unsigned, 0, 36500, false, Reload::InitOnly,
            "integer (days)", "183",
            "Closed files older than this are deleted; nothing newer ever is. 0: keep everything.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.file.retention_days; }}},
    KeySpec{"mirror.file.zstd_level", ValueKind::Unsigned, 0, 19, false, Reload::InitOnly,
            "integer", "3",
            "zstd compression level of the files (1 fastest .. 19 smallest); 0 writes them "
            "uncompressed.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.file.zstd_level; }}},
    KeySpec{"mirror.syslog.address", ValueKind::String, 0, 64, false, Reload::InitOnly,
            "host[:port]", "\"\"",
            "Syslog sink: RFC 5424 messages over TCP with octet-counting framing (RFC 6587) to "
            "\"host[:port]\", \"a.b.c.d[:port]\" or \"[v6][:port]\" (empty: off); the port is "
            "6514 with TLS, 514 without, when omitted.",
            StringField{[](Config& c) -> std::string& { return c.mirror.syslog.address; }},
            check_syslog_address},
    KeySpec{"mirror.syslog.tls", ValueKind::Boolean, 0, 0, false, Reload::InitOnly, "boolean",
            "false", "Syslog over TLS (RFC 5425); needs mirror.syslog.ca_file.",
            BoolField{[](Config& c) -> bool& { return c.mirror.syslog.tls; }}},
    KeySpec{"mirror.syslog.ca_file", ValueKind::String, 0, 4095, false, Reload::InitOnly,
            "absolute path", "\"\"",
            "PEM file of the CA(s) the collector's certificate must chain to (required with TLS).",
            StringField{[](Config& c) -> std::string& { return c.mirror.syslog.ca_file; }},
            check_snapshot_path},
    KeySpec{"mirror.syslog.cert_file", ValueKind::String, 0, 4095, false, Reload::InitOnly,
            "absolute path", "\"\"",
            "PEM client certificate, for collectors that authenticate senders.",
            StringField{[](Config& c) -> std::string& { return c.mirror.syslog.cert_file; }},
            check_snapshot_path},
    KeySpec{"mirror.syslog.key_file", ValueKind::String, 0, 4095, false, Reload::InitOnly,
            "absolute path", "\"\"", "PEM private key of cert_file (empty: it is in cert_file).",
            StringField{[](Config& c) -> std::string& { return c.mirror.syslog.key_file; }},
            check_snapshot_path},
    KeySpec{"mirror.syslog.server_name", ValueKind::String, 0, 253, false, Reload::InitOnly,
            "host name", "\"\"",
            "Name the collector's certificate must carry (and SNI); empty: the host of "
            "mirror.syslog.address.",
            StringField{[](Config& c) -> std::string& { return c.mirror.syslog.server_name; }},
            check_server_name},
    KeySpec{"mirror.kafka.brokers", ValueKind::String, 0, 4096, false, Reload::InitOnly,
            "host:port list", "\"\"",
            "Kafka sink: bootstrap brokers, \"host[:port][,host[:port]...]\" (port 9092 when "
            "omitted; empty: off); an "
            "idempotent librdkafka producer, never blocking the serving threads.",
            StringField{[](Config& c) -> std::string& { return c.mirror.kafka.brokers; }},
            check_brokers},
    KeySpec{"mirror.kafka.topic", ValueKind::String, 1, 249, false, Reload::InitOnly, "string",
            "idpath-log", "Topic the batches are produced to.",
            StringField{[](Config& c) -> std::string& { return c.mirror.kafka.topic; }},
            check_topic},
    KeySpec{"mirror.kafka.format", ValueKind::String, 1, 16, false, Reload::InitOnly,
            "string: binary, json", "binary",
            "Message encoding: one binary batch per message, or JSON lines.",
            StringField{[](Config& c) -> std::string& { return c.mirror.kafka.format; }},
            check_format},
    KeySpec{"mirror.kafka.properties", ValueKind::StringList, 0, 64, false, Reload::InitOnly,
            "list of key=value", "[]",
            "Extra librdkafka settings (\"security.protocol=ssl\", \"compression.type=zstd\"), "
            "applied after idpath's own.",
            StringsField{[](Config& c) -> std::vector<std::string>& { return c.mirror.kafka.properties; }},
            check_kafka_property},
    KeySpec{"mirror.clickhouse.url", ValueKind::String, 0, 2048, false, Reload::InitOnly, "URL",
            "\"\"",
            "ClickHouse sink: its HTTP interface, \"http://host:8123/\" (empty: off); batches "
            "are inserted as JSONEachRow. Tables and queries: docs/log-clickhouse.md.",
            StringField{[](Config& c) -> std::string& { return c.mirror.clickhouse.url; }},
            check_http_url},
    KeySpec{"mirror.clickhouse.table", ValueKind::String, 1, 128, false, Reload::InitOnly,
            "[database.]table", "records",
            "Table the query and heartbeat records are inserted into (database idpath unless "
            "named); events go to the events table beside it.",
            StringField{[](Config& c) -> std::string& { return c.mirror.clickhouse.table; }},
            check_table_name},
    KeySpec{"mirror.clickhouse.user", ValueKind::String, 1, 64, false, Reload::InitOnly, "string",
            "default", "ClickHouse user.",
            StringField{[](Config& c) -> std::string& { return c.mirror.clickhouse.user; }},
            check_printable},
    KeySpec{"mirror.clickhouse.password", ValueKind::String, 0, 256, false, Reload::InitOnly,
            "string", "\"\"", "Its password (keep this file unreadable to others).",
            StringField{[](Config& c) -> std::string& { return c.mirror.clickhouse.password; }},
            check_no_control},
    KeySpec{"mirror.clickhouse.retention_days", ValueKind::Unsigned, 0, 36500, false,
            Reload::InitOnly, "integer (days)", "183",
            "Monthly partitions older than this are dropped (the server's TTL where it has one); "
            "0: keep everything.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.clickhouse.retention_days; }}},
    KeySpec{"mirror.probe.directory", ValueKind::String, 0, 4095, false, Reload::InitOnly,
            "absolute path", "\"\"",
            "Probe mode: copies of raw request and response packets go to rotated pcapng files "
            "here (empty: off). On by itself, with or without a log sink. docs/log-mirror.md.",
            StringField{[](Config& c) -> std::string& { return c.mirror.probe.directory; }},
            check_snapshot_path},
    KeySpec{"mirror.probe.sample", ValueKind::Unsigned, 1, 1000000000, false, Reload::InitOnly,
            "integer", "1",
            "One request in this many is captured, with its responses (1: every request).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.probe.sample; }}},
    KeySpec{"mirror.probe.snap_bytes", ValueKind::Unsigned, 64, 2032, false, Reload::InitOnly,
            "integer (octets)", "2032",
            "Octets kept of each packet, headers included; longer packets are cut (their length "
            "is still recorded).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.probe.snap_bytes; }}},
    KeySpec{"mirror.probe.rotate_mb", ValueKind::Unsigned, 0, 65536, false, Reload::InitOnly,
            "integer (MiB)", "256",
            "A probe file is closed and a new one started at this size, or after "
            "rotate_seconds (0: no size limit).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.probe.rotate_mb; }}},
    KeySpec{"mirror.probe.rotate_seconds", ValueKind::Unsigned, 0, 604800, false, Reload::InitOnly,
            "integer (s)", "3600",
            "A probe file is closed and a new one started at this age, or at rotate_mb (0: no age "
            "limit).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.probe.rotate_seconds; }}},
    KeySpec{"mirror.probe.retention_days", ValueKind::Unsigned, 0, 36500, false, Reload::InitOnly,
            "integer (days)", "183",
            "Probe files of this node older than this are deleted; nothing else ever is. 0: keep "
            "everything.",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.probe.retention_days; }}},
    KeySpec{"mirror.probe.ring_packets", ValueKind::Unsigned, 64, 1048576, false, Reload::InitOnly,
            "integer", "4096",
            "Packets each serving thread's probe ring holds (2 KiB each); when full, packets are "
            "lost and counted (idpathctl mirror: probe.lost).",
            UnsignedField{[](Config& c) -> std::uint32_t& { return c.mirror.probe.ring_packets; }}},
};

std::string range_text(const KeySpec& k)
{
    switch (k.kind) {
    case ValueKind::Unsigned: return std::to_string(k.min) + ".." + std::to_string(k.max);
    case ValueKind::String: return std::to_string(k.min) + ".." + std::to_string(k.max) + " octets";
    case ValueKind::EndpointList:
    case ValueKind::PrefixList:
    case ValueKind::FileList:
    case ValueKind::StringList:
        return std::to_string(k.min) + ".." + std::to_string(k.max) + " entries";
    case ValueKind::Site: return "see data-format.md";
    case ValueKind::Boolean: return "true, false";
    }
    return {};
}

} // namespace

Result<HostPort, std::string> parse_host_port(std::string_view text, std::uint16_t default_port)
{
    const std::string quoted = "\"" + std::string(text) + "\"";
    std::string_view host = text, port;
    const bool bracketed = text.starts_with('[');
    if (bracketed) {
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            return Err(quoted + ": no ']' after the IPv6 address");
        host = text.substr(1, close - 1);
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':'))
            return Err(quoted + ": write [v6]:port");
        if (!rest.empty()) {
            port = rest.substr(1);
            if (port.empty())
                return Err(quoted + ": empty port");
        }
        in6_addr a{};
        if (inet_pton(AF_INET6, std::string(host).c_str(), &a) != 1)
            return Err(quoted + ": bad IPv6 address");
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        if (text.find(':') != colon)
            return Err(quoted + ": write an IPv6 address in brackets, [v6]:port");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty())
            return Err(quoted + ": empty port");
    }
    if (host.empty())
        return Err(quoted + ": no host");
    if (!bracketed && !std::all_of(host.begin(), host.end(), host_char))
        return Err(quoted + ": a host is letters, digits, '.', '-', '_'");
    HostPort hp{std::string(host), default_port};
    if (!port.empty()) {
        unsigned p = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (ec != std::errc{} || end != port.data() + port.size() || p == 0 || p > 65535)
            return Err(quoted + ": the port must be 1..65535");
        hp.port = static_cast<std::uint16_t>(p);
    }
    return hp;
}

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
