#include "perf/gun/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace idpath::gun {
namespace {

constexpr std::string_view kUsage = R"(usage: idpath-gun [options] SERVER [SERVER6]

Load generator for Handle System (RFC 3652) resolvers: sends RESOLUTION queries over UDP
(sendmmsg/recvmmsg) or TCP, matches every answer to its query by RequestId, and reports
answers/s, loss, response codes and latency percentiles.

Send load only to loopback or to servers you operate or are authorised to test. Every run is
bounded: by --duration (default 5 s, at most 600 s) and/or --count.

SERVER          192.0.2.1, 192.0.2.1:2641, [2001:db8::1]:2641 or ::1 (port 2641 by default)
SERVER6         a second server of the other address family (either order): a run mixes IPv4
                and IPv6 half and half. The sockets alternate between the two; --xdp sends
                both over every queue, each query's family a hash of its RequestId

identifiers (at least one; may be combined and repeated):
  --handles FILE      one handle per line ('#' comments and blank lines skipped)
  --jsonl FILE        JSON lines; the "handle" field of each object (idpathd's import format)
  --handle H          one handle
  --miss-ratio R      share of queries, 0..1, for generated names that do not exist, under the
                      same prefixes ("<prefix>/idpath-gun-miss-<hex>")  [0]
  --zipf S            popularity exponent; the first identifier is the most popular; 0 = uniform [0]
  --seed N            seed of the query stream; the same seed repeats the same queries  [1]

queries:
  --index I           ask only for value index I (repeatable)
  --type T            ask only for values of type T (repeatable)
  --rd                ask for the request digest (RD flag)

load:
  --window N          closed loop: queries in flight per socket, 1..65536  [64]
  --rate QPS          open loop instead: queries per second over all sockets, paced by a token
                      bucket per socket in bursts of at most 32
  --sockets N         UDP sockets (distinct source ports) or TCP connections  [4]
  --threads T         worker threads, at most --sockets  [1]
  --tcp               TCP instead of UDP (pipelined, one connection per socket)
  --xdp IFACE         AF_XDP on IFACE instead of kernel sockets: one flow and thread per queue,
                      Ethernet/IP/UDP frames built here (needs root; docs/idpath-gun.md)
  --queues N          --xdp: the first N queues of IFACE, 1..256  [all combined/rx queues]
  --dst-mac MAC       --xdp: next-hop MAC, for both families  [each SERVER's entry in the
                      neighbour table]
  --src-ip RANGE      --xdp: source addresses, A-B, CIDR or A; they must be IFACE's (or routed
                      back to it); once per family, of a SERVER's family  [IFACE's address of
                      each SERVER's family]
  --src-ports LO-HI   --xdp: source ports, spread per query so RSS spreads the load [2000-65535]
  --count N           stop sending after N queries in all
  --duration SECONDS  stop sending after this long, 0 < S <= 600  [5, or 600 with --count]
  --timeout-ms MS     an answer later than this counts as lost, 1..60000  [1000]

output:
  --interval SECONDS  seconds between interval lines; 0 = summary only  [1]
  --json              JSON lines: one object per interval and a final summary object
  -h, --help          this text
  --version           version

exit status: 0 done; 2 bad arguments or identifier files; 3 network error, or no answer at all.
)";

struct Parser {
    std::span<const std::string_view> args;
    std::size_t at = 0;
    std::string error;

    bool fail(std::string_view name, std::string_view what)
    {
        if (error.empty())
            error = std::string(name) + ": " + std::string(what);
        return false;
    }
};

template <class T>
std::optional<T> number(std::string_view text)
{
    T v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    if constexpr (std::is_floating_point_v<T>)
        if (!std::isfinite(v))
            return std::nullopt;
    return v;
}

template <class T>
bool integer_in(Parser& p, std::string_view name, std::string_view text, T lo, T hi, T& out)
{
    const auto v = number<T>(text);
    if (!v || *v < lo || *v > hi)
        return p.fail(name, "must be an integer " + std::to_string(lo) + ".." + std::to_string(hi) + ", got '" +
                                std::string(text) + "'");
    out = *v;
    return true;
}

bool real_in(Parser& p, std::string_view name, std::string_view text, double lo, double hi, bool lo_open,
             double& out)
{
    const auto v = number<double>(text);
    if (!v || *v > hi || *v < lo || (lo_open && *v == lo)) {
        std::string range = (lo_open ? "above " : "from ") + std::to_string(lo) + " to " + std::to_string(hi);
        return p.fail(name, "must be a number " + range + ", got '" + std::string(text) + "'");
    }
    out = *v;
    return true;
}

} // namespace

std::string_view usage_text() noexcept
{
    return kUsage;
}

std::optional<bool> server_is_ipv6(std::string_view server) noexcept
{
    // The forms socket::parse_endpoint() takes: "[v6]:port", "[v6]", bare v6, "v4:port", "v4".
    std::string_view host = server;
    const bool bracketed = !server.empty() && server.front() == '[';
    if (bracketed) {
        const auto close = server.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = server.substr(1, close - 1);
    } else if (std::count(server.begin(), server.end(), ':') == 1) {
        host = server.substr(0, server.find(':'));
    }
    const auto a = parse_address(host);
    if (!a || (bracketed && !a->ipv6))
        return std::nullopt;
    return a->ipv6;
}

Result<Options, std::string> parse_options(std::span<const std::string_view> args)
{
    Options o;
    Parser p{args, 0, {}};
    bool window_set = false;
    bool sockets_set = false;
    bool threads_set = false;
    bool xdp_only_set = false; // an option that means nothing without --xdp
    bool duration_set = false;
    std::vector<std::string_view> positional;

    while (p.at < args.size() && p.error.empty()) {
        std::string_view arg = args[p.at++];
        if (arg == "-h" || arg == "--help") {
            o.help = true;
            return o;
        }
        if (arg == "--version") {
            o.version = true;
            return o;
        }
        if (arg == "--") {
            while (p.at < args.size())
                positional.push_back(args[p.at++]);
            break;
        }
        if (!arg.starts_with("--")) {
            if (arg.starts_with("-"))
                return Err(std::string(arg) + ": unknown option");
            positional.push_back(arg);
            continue;
        }

        std::string_view name = arg;
        std::optional<std::string_view> inline_value;
        if (const auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            inline_value = arg.substr(eq + 1);
        }
        const auto flag = [&](bool& out) {
            if (inline_value)
                return p.fail(name, "takes no value");
            out = true;
            return true;
        };
        if (name == "--tcp") {
            flag(o.tcp);
            continue;
        }
        if (name == "--json") {
            flag(o.json);
            continue;
        }
        if (name == "--rd") {
            flag(o.rd);
            continue;
        }

        std::string_view value;
        if (inline_value) {
            value = *inline_value;
        } else if (p.at < args.size()) {
            value = args[p.at++];
        } else {
            return Err(std::string(name) + ": needs a value");
        }

        if (name == "--handles") {
            o.handle_files.emplace_back(value);
        } else if (name == "--jsonl") {
            o.jsonl_files.emplace_back(value);
        } else if (name == "--handle") {
            o.handles.emplace_back(value);
        } else if (name == "--miss-ratio") {
            real_in(p, name, value, 0, 1, false, o.miss_ratio);
        } else if (name == "--zipf") {
            real_in(p, name, value, 0, 10, false, o.zipf);
        } else if (name == "--seed") {
            integer_in<std::uint64_t>(p, name, value, 0, UINT64_MAX, o.seed);
        } else if (name == "--index") {
            std::uint32_t i = 0;
            if (integer_in<std::uint32_t>(p, name, value, 0, UINT32_MAX, i))
                o.indexes.push_back(i);
        } else if (name == "--type") {
            if (value.empty())
                p.fail(name, "must not be empty");
            o.types.emplace_back(value);
        } else if (name == "--window") {
            window_set = integer_in<std::uint32_t>(p, name, value, 1, 65536, o.window);
        } else if (name == "--rate") {
            real_in(p, name, value, 0, 1e9, true, o.rate);
        } else if (name == "--sockets") {
            sockets_set = integer_in<std::uint32_t>(p, name, value, 1, 1024, o.sockets);
        } else if (name == "--threads") {
            threads_set = integer_in<std::uint32_t>(p, name, value, 1, 256, o.threads);
        } else if (name == "--xdp") {
            if (value.empty() || value.size() >= 16 || value.find('/') != std::string_view::npos)
                p.fail(name, "must be an interface name (1..15 characters, no '/'), got '" + std::string(value) + "'");
            o.xdp_iface = value;
        } else if (name == "--queues") {
            xdp_only_set = integer_in<std::uint32_t>(p, name, value, 1, 256, o.queues);
        } else if (name == "--dst-mac") {
            xdp_only_set = true;
            if (!(o.dst_mac = parse_mac(value)))
                p.fail(name, "must be a MAC address like 02:00:5e:10:00:01, got '" + std::string(value) + "'");
        } else if (name == "--src-ip") {
            xdp_only_set = true;
            if (const auto r = parse_address_range(value)) {
                AddressRange& slot = r->ipv6 ? o.src_ip6 : o.src_ip4;
                if (slot.count)
                    p.fail(name, std::string("one range per address family, got two ") + (r->ipv6 ? "IPv6" : "IPv4") +
                                     " ranges");
                slot = *r;
            } else {
                p.fail(name, "must be A-B (same family, A <= B, IPv6 differing in the low 64 bits), a "
                             "CIDR prefix (at most 64 host bits) or one address, got '" + std::string(value) + "'");
            }
        } else if (name == "--src-ports") {
            xdp_only_set = true;
            if (const auto r = parse_port_range(value))
                o.src_ports = *r;
            else
                p.fail(name, "must be LO-HI with 1 <= LO <= HI <= 65535, got '" + std::string(value) + "'");
        } else if (name == "--count") {
            integer_in<std::uint64_t>(p, name, value, 1, UINT64_MAX / 2, o.count);
        } else if (name == "--duration") {
            duration_set = real_in(p, name, value, 0, kMaxDurationSeconds, true, o.duration);
        } else if (name == "--timeout-ms") {
            integer_in<std::uint32_t>(p, name, value, 1, 60000, o.timeout_ms);
        } else if (name == "--interval") {
            real_in(p, name, value, 0, kMaxDurationSeconds, false, o.interval);
            if (o.interval > 0 && o.interval < 0.1)
                p.fail(name, "must be 0 (off) or at least 0.1");
        } else {
            return Err(std::string(name) + ": unknown option");
        }
    }
    if (!p.error.empty())
        return Err(p.error);

    if (positional.empty())
        return Err(std::string("missing SERVER (try --help)"));
    if (positional.size() > 2)
        return Err("two SERVERs at most (one per address family), got '" + std::string(positional[2]) + "' too");
    o.server = positional[0];
    if (positional.size() == 2)
        o.server2 = positional[1];
    if (o.handle_files.empty() && o.jsonl_files.empty() && o.handles.empty())
        return Err(std::string("no identifiers: give --handles FILE, --jsonl FILE or --handle H"));
    const std::optional<bool> first_v6 = server_is_ipv6(o.server);
    const std::optional<bool> second_v6 = o.mixed() ? server_is_ipv6(o.server2) : std::nullopt;
    if (first_v6 && second_v6 && *first_v6 == *second_v6)
        return Err("two SERVERs of one family ('" + o.server + "' and '" + o.server2 + "' are both " +
                   (*first_v6 ? "IPv6" : "IPv4") + "): give one IPv4 and one IPv6 address");
    if (o.xdp()) {
        // A range of each --src-ip's family is sent from only with a SERVER of that family.
        // (An unparsable SERVER is main()'s to report.)
        if (first_v6 && (!o.mixed() || second_v6)) {
            for (const bool v6 : {false, true}) {
                const bool served = *first_v6 == v6 || (second_v6 && *second_v6 == v6);
                if (o.src_ip(v6).count && !served)
                    return Err(std::string("--src-ip: an ") + (v6 ? "IPv6" : "IPv4") + " range, but no " +
                               (v6 ? "IPv6" : "IPv4") + " SERVER");
            }
        }
        if (o.tcp)
            return Err(std::string("--tcp: not with --xdp (AF_XDP sends UDP)"));
        if (sockets_set || threads_set)
            return Err(std::string(sockets_set ? "--sockets" : "--threads") +
                       ": not with --xdp (one flow and thread per queue; use --queues)");
    } else if (xdp_only_set) {
        return Err(std::string("--queues, --dst-mac, --src-ip and --src-ports need --xdp IFACE"));
    }
    if (o.threads > o.sockets)
        return Err("--threads: at most --sockets (" + std::to_string(o.sockets) + "), got " +
                   std::to_string(o.threads));
    if (window_set && o.open_loop())
        return Err(std::string("--window: closed loop only; --rate paces an open loop"));
    if (o.count && !duration_set)
        o.duration = kMaxDurationSeconds;
    return o;
}

} // namespace idpath::gun
