// idpath-dig: query a Handle server over UDP or TCP, like kdig for DNS (docs/idpath-dig.md).
// Parses arguments and does the I/O; everything printed comes from dig_format.

#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/recursion/recursor.hpp"
#include "controlplane/tools/dig_format.hpp"
#include "dataplane/wire/constants.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/client.hpp"
#include "drivers/socket/clock.hpp"
#include "drivers/socket/request.hpp"

namespace {

using namespace idpath;

constexpr const char* kUsage = R"(usage: idpath-dig [@SERVER] [options] HANDLE
       idpath-dig --recurse ROOT[,ROOT...] [options] HANDLE

Sends one Handle System request (RESOLUTION by default) and prints the reply.
With --recurse, resolves HANDLE from the root sites down, as a recursive node
does, and prints every hop and then the answer.

Server:
  @SERVER               127.0.0.1, 127.0.0.1:2641, ::1, [::1]:2641, or a host name
                        (default 127.0.0.1, or ::1 with -6)
  -p PORT               port when SERVER names none (default 2641)
  -4, -6                default server and name lookups: IPv4 or IPv6
  --tcp, +tcp           TCP instead of UDP
  --recurse ROOT[,ROOT...]
                        resolve recursively from these root servers (addresses,
                        port from -p or 2641): prefix handle, referrals, HS_SERV,
                        the site's hashed server; UDP, then TCP on timeout

Request:
  --index N             only values with index N (repeatable)
  --type T              only values of type T; "URL." matches URL and URL.* (repeatable)
  --opcode OP           resolution (default), get-site-info, or a number
  --no-public-only      clear PO (ask for restricted values too)
  --auth                set AT (authoritative: skip caches)
  --digest              set RD and check the digest of our request in the reply
  --request-id N        RequestId (default random)
  --timeout MS          per UDP try, or for the whole TCP exchange (default 2000)
  --tries N             UDP sends before giving up (default 3)

Output:
  --hex                 value data as hex, undecoded
  --json                one JSON object instead of text
  --quiet               print nothing on stdout; the exit status tells
  -h, --help            this text

Exit status: 0 RC_SUCCESS, 1 another response code, 2 usage error,
3 no reply (timeout, refused), 4 malformed reply or digest mismatch.
)";

struct Args {
    std::optional<std::string> server;
    std::optional<std::uint16_t> port;
    bool ipv4 = false;
    bool ipv6 = false;
    bool tcp = false;
    std::optional<std::string> recurse; // --recurse ROOT[,ROOT...]
    std::vector<std::uint32_t> indexes;
    std::vector<std::string> types;
    std::uint32_t opcode = static_cast<std::uint32_t>(wire::OpCode::Resolution);
    bool public_only = true;
    bool auth = false;
    bool digest = false;
    std::optional<std::uint32_t> request_id;
    int timeout_ms = 2000;
    int tries = 3;
    bool hex = false;
    bool json = false;
    bool quiet = false;
    bool help = false;
    std::optional<std::string> handle;
};

template <class T>
bool parse_number(std::string_view s, T min, T max, T& out)
{
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() ||
        v < static_cast<std::uint64_t>(min) || v > static_cast<std::uint64_t>(max))
        return false;
    out = static_cast<T>(v);
    return true;
}

/// Parses argv into `a`; returns an error message, empty on success.
std::string parse_args(int argc, char** argv, Args& a)
{
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::optional<std::string_view> inline_value;
        if (arg.substr(0, 2) == "--") {
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                inline_value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
            }
        }
        // Fetches the option's value: "--opt=V" or "--opt V".
        std::string_view value;
        const auto take = [&](std::string_view name) -> bool {
            if (inline_value) {
                value = *inline_value;
                return true;
            }
            if (i + 1 >= args.size())
                return false;
            value = args[++i];
            (void)name;
            return true;
        };
        const auto missing = [&] { return std::string(arg) + " needs a value"; };
        const auto bad = [&](const char* what) {
            return "bad " + std::string(arg) + " '" + std::string(value) + "': " + what;
        };
        const auto no_value = [&]() -> std::string {
            return inline_value ? std::string(arg) + " takes no value" : std::string();
        };

        if (arg.size() > 1 && arg[0] == '@') {
            if (a.server)
                return "more than one @SERVER";
            a.server = std::string(arg.substr(1));
        } else if (arg == "-h" || arg == "--help") {
            a.help = true;
        } else if (arg == "-p") {
            if (!take(arg))
                return missing();
            std::uint16_t port = 0;
            if (!parse_number<std::uint16_t>(value, 1, 65535, port))
                return bad("a port is 1-65535");
            a.port = port;
        } else if (arg == "-4") {
            a.ipv4 = true;
            a.ipv6 = false;
        } else if (arg == "-6") {
            a.ipv6 = true;
            a.ipv4 = false;
        } else if (arg == "--tcp" || arg == "+tcp") {
            if (auto e = no_value(); !e.empty())
                return e;
            a.tcp = true;
        } else if (arg == "--recurse") {
            if (!take(arg))
                return missing();
            if (value.empty())
                return bad("name at least one root server");
            a.recurse = std::string(value);
        } else if (arg == "+notcp" || arg == "--udp") {
            a.tcp = false;
        } else if (arg == "--index") {
            if (!take(arg))
                return missing();
            std::uint32_t idx = 0;
            if (!parse_number<std::uint32_t>(value, 0, std::numeric_limits<std::uint32_t>::max(),
                                             idx))
                return bad("an index is a number 0-4294967295");
            a.indexes.push_back(idx);
        } else if (arg == "--type") {
            if (!take(arg))
                return missing();
            if (value.empty())
                return bad("a type is not empty");
            a.types.emplace_back(value);
        } else if (arg == "--opcode") {
            if (!take(arg))
                return missing();
            if (value == "resolution")
                a.opcode = static_cast<std::uint32_t>(wire::OpCode::Resolution);
            else if (value == "get-site-info")
                a.opcode = static_cast<std::uint32_t>(wire::OpCode::GetSiteInfo);
            else if (!parse_number<std::uint32_t>(
                         value, 0, std::numeric_limits<std::uint32_t>::max(), a.opcode))
                return bad("use resolution, get-site-info or a number");
        } else if (arg == "--no-public-only") {
            a.public_only = false;
        } else if (arg == "--auth") {
            a.auth = true;
        } else if (arg == "--digest") {
            a.digest = true;
        } else if (arg == "--request-id") {
            if (!take(arg))
                return missing();
            std::uint32_t id = 0;
            if (!parse_number<std::uint32_t>(value, 0, std::numeric_limits<std::uint32_t>::max(),
                                             id))
                return bad("a RequestId is a number 0-4294967295");
            a.request_id = id;
        } else if (arg == "--timeout") {
            if (!take(arg))
                return missing();
            if (!parse_number<int>(value, 1, 3600000, a.timeout_ms))
                return bad("milliseconds, 1-3600000");
        } else if (arg == "--tries") {
            if (!take(arg))
                return missing();
            if (!parse_number<int>(value, 1, 100, a.tries))
                return bad("1-100");
        } else if (arg == "--hex") {
            a.hex = true;
        } else if (arg == "--json") {
            a.json = true;
        } else if (arg == "--quiet" || arg == "-q") {
            a.quiet = true;
        } else if (arg == "--") {
            if (i + 2 != args.size() || a.handle)
                return "expected exactly one HANDLE after --";
            a.handle = std::string(args[i + 1]);
            break;
        } else if ((arg[0] == '-' && arg.size() > 1) || arg[0] == '+') {
            return "unknown option " + std::string(arg);
        } else {
            if (a.handle)
                return "more than one HANDLE ('" + *a.handle + "' and '" + std::string(arg) + "')";
            a.handle = std::string(arg);
        }
    }
    if (a.help)
        return {};
    if (!a.handle && a.opcode == static_cast<std::uint32_t>(wire::OpCode::Resolution))
        return "no HANDLE given";
    if (a.opcode != static_cast<std::uint32_t>(wire::OpCode::Resolution) &&
        (!a.indexes.empty() || !a.types.empty()))
        return "--index and --type apply to resolution requests only";
    if (a.recurse) {
        // The engine decides transports and flags itself, and asks for all public values.
        if (a.server)
            return "--recurse and @SERVER exclude each other";
        if (a.opcode != static_cast<std::uint32_t>(wire::OpCode::Resolution))
            return "--recurse resolves handles only (no --opcode)";
        if (!a.indexes.empty() || !a.types.empty() || a.tcp || !a.public_only || a.auth ||
            a.digest || a.request_id)
            return "--recurse takes no --index, --type, --tcp, --no-public-only, --auth, "
                   "--digest or --request-id";
    }
    return {};
}

/// The server to ask: an address (with or without port), or a host name looked up here.
std::optional<socket::Endpoint> resolve_server(const Args& a, std::string& error)
{
    const std::uint16_t port = a.port.value_or(wire::kDefaultPort);
    const std::string text = a.server.value_or(a.ipv6 ? "::1" : "127.0.0.1");
    if (auto ep = socket::parse_endpoint(text, port))
        return ep;
    // A host name, optionally with ":port".
    std::string host = text;
    std::uint16_t host_port = port;
    if (const auto colon = text.rfind(':'); colon != std::string::npos && text.find(':') == colon) {
        host = text.substr(0, colon);
        if (!parse_number<std::uint16_t>(std::string_view(text).substr(colon + 1), 1, 65535,
                                         host_port)) {
            error = "bad server '" + text + "'";
            return std::nullopt;
        }
    }
    addrinfo hints{};
    hints.ai_family = a.ipv6 ? AF_INET6 : (a.ipv4 ? AF_INET : AF_UNSPEC);
    hints.ai_socktype = a.tcp ? SOCK_STREAM : SOCK_DGRAM;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(host_port);
    if (const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
        error = "cannot resolve server '" + host + "': " + gai_strerror(rc);
        return std::nullopt;
    }
    const socket::Endpoint ep = socket::endpoint_from(res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return ep;
}

std::uint32_t random_request_id()
{
    // HANDLE.NET uses a positive random int (abs of SecureRandom).
    std::random_device rd;
    return (rd() & 0x7fffffffu) | 1u;
}

int usage_error(const std::string& message)
{
    std::fprintf(stderr, "idpath-dig: %s\n\n%s", message.c_str(), kUsage);
    return tools::dig_exit::kUsage;
}

/// Prints why an exchange produced no reply; returns the exit status.
int report_failure(const Args& a, const std::string& server, const std::string& question,
                   const socket::ClientError& e)
{
    std::string status = "network-error";
    int code = tools::dig_exit::kNetwork;
    if (e.kind == socket::ClientError::Kind::Timeout)
        status = "timeout";
    if (e.kind == socket::ClientError::Kind::Malformed) {
        status = "malformed";
        code = tools::dig_exit::kMalformed;
    }
    if (a.json && !a.quiet)
        std::fputs(tools::format_json_failure(server, a.tcp, question, status, e.message).c_str(),
                   stdout);
    else
        std::fprintf(stderr, ";; %s: %s\n", status.c_str(), e.message.c_str());
    return code;
}

/// "HOP 2: 0.NA/88.100.1 -> 127.0.0.1:2641 (UDP): RC_SUCCESS (1); prefix referral to 1 site".
std::string hop_line(std::size_t n, const recursion::Hop& h)
{
    std::string s = ";; HOP " + std::to_string(n) + ": " + h.question + " -> " + h.server +
                    (h.tcp ? " (TCP)" : " (UDP)") + ": ";
    if (h.response_code != 0) {
        const char* name = wire::response_code_name(h.response_code);
        s += std::string(name ? name : "RC_UNKNOWN") + " (" + std::to_string(h.response_code) + ")";
        if (!h.note.empty())
            s += "; " + h.note;
    } else {
        s += h.note.empty() ? "no reply" : h.note;
    }
    return s;
}

/// --recurse: resolves through the recursion engine, prints each hop, then the final reply as
/// a direct query would print it.
int run_recursive(const Args& a)
{
    recursion::RecursionOptions options;
    std::string_view list = *a.recurse;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        const auto ep = socket::parse_endpoint(item, a.port.value_or(wire::kDefaultPort));
        if (!ep)
            return usage_error("bad root server '" + std::string(item) +
                               "' (an IP address, optionally with :port)");
        options.roots.push_back(*ep);
    }
    if (options.roots.empty())
        return usage_error("--recurse names no root server");
    options.udp_timeout_ms = a.timeout_ms;
    options.udp_tries = a.tries;
    options.tcp_timeout_ms = a.timeout_ms;
    recursion::Recursor engine(options);
    std::vector<recursion::Hop> trace;
    const std::string handle = a.handle.value_or("");
    const recursion::Outcome outcome = engine.resolve_traced(handle, trace);

    // The reply that settled the question: the last one for the handle itself.
    const recursion::Hop* final_hop = nullptr;
    for (auto it = trace.rbegin(); it != trace.rend(); ++it)
        if (it->reply && it->question == handle && it->response_code == outcome.response_code) {
            final_hop = &*it;
            break;
        }

    std::string text;
    nlohmann::json hops = nlohmann::json::array();
    for (std::size_t i = 0; i < trace.size(); ++i) {
        const recursion::Hop& h = trace[i];
        text += hop_line(i + 1, h) + "\n";
        nlohmann::json j = {
            {"question", h.question}, {"server", h.server}, {"transport", h.tcp ? "tcp" : "udp"}};
        if (h.response_code != 0) {
            j["response_code"] = h.response_code;
            const char* name = wire::response_code_name(h.response_code);
            j["response_code_name"] = name ? name : "RC_UNKNOWN";
        }
        if (!h.note.empty())
            j["note"] = h.note;
        hops.push_back(std::move(j));
    }

    int code = tools::dig_exit::kSuccess;
    nlohmann::json result;
    if (final_hop && !outcome.failed()) {
        tools::DigExchange x;
        x.server = final_hop->server;
        x.tcp = final_hop->tcp;
        x.question = handle;
        x.request_id = final_hop->request_id;
        x.request_header_and_body = final_hop->request_header_and_body;
        x.reply = *final_hop->reply;
        const tools::DigFormatOptions fo{a.hex};
        const tools::DigOutput out = a.json ? tools::format_json(x, fo) : tools::format_text(x, fo);
        code = out.exit_code;
        if (a.json)
            result = nlohmann::json::parse(out.text, nullptr, false);
        else
            text += out.text;
    } else if (!outcome.failed()) {
        // Settled without a reply for the handle itself: its prefix handle does not exist.
        const char* name = wire::response_code_name(outcome.response_code);
        code = outcome.response_code == 1 ? tools::dig_exit::kSuccess : tools::dig_exit::kNegative;
        text += ";; QUESTION: " + handle + "\n;; RESULT: " + (name ? name : "RC_UNKNOWN") + " (" +
                std::to_string(outcome.response_code) + "): prefix handle not found\n";
        result = {{"status", code == 0 ? "success" : "negative"},
                  {"response_code", outcome.response_code},
                  {"response_code_name", name ? name : "RC_UNKNOWN"},
                  {"question", handle}};
    } else {
        code = tools::dig_exit::kNetwork;
        result = {{"status", "recursion-failed"}, {"error", outcome.error}, {"question", handle}};
    }
    if (!a.json)
        text += ";; RECURSION: " + std::to_string(outcome.hops) +
                (outcome.hops == 1 ? " level, " : " levels, ") + std::to_string(trace.size()) +
                (trace.size() == 1 ? " exchange" : " exchanges") + "\n";
    if (a.json) {
        if (!result.is_object())
            result = nlohmann::json::object();
        result["recursion"] = {{"hops", hops}, {"levels", outcome.hops}};
        if (outcome.failed())
            result["recursion"]["error"] = outcome.error;
        text = result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    if (!a.quiet)
        std::fputs(text.c_str(), stdout);
    if (outcome.failed())
        std::fprintf(stderr, ";; recursion failed: %s\n", outcome.error.c_str());
    return code;
}

} // namespace

int main(int argc, char** argv)
{
    Args a;
    if (const std::string e = parse_args(argc, argv, a); !e.empty())
        return usage_error(e);
    if (a.help) {
        std::fputs(kUsage, stdout);
        return tools::dig_exit::kSuccess;
    }
    if (a.recurse)
        return run_recursive(a);

    std::string error;
    const auto server = resolve_server(a, error);
    if (!server)
        return usage_error(error);

    socket::RequestSpec spec;
    spec.opcode = a.opcode;
    spec.handle = a.handle.value_or("");
    spec.indexes = a.indexes;
    spec.types = a.types;
    spec.op_flags = socket::kDefaultClientFlags;
    if (!a.public_only)
        spec.op_flags &= ~wire::opflag::kPublicOnly;
    if (a.auth)
        spec.op_flags |= wire::opflag::kAuthoritative;
    if (a.digest)
        spec.op_flags |= wire::opflag::kReturnDigest;
    spec.request_id = a.request_id ? *a.request_id : random_request_id();
    spec.expiration = socket::unix_seconds() + wire::kDefaultExpirationSeconds;
    auto request = socket::encode_request(spec);
    if (!request.ok())
        return usage_error("cannot encode the request (handle or filters too long)");

    socket::QueryOptions q;
    q.server = *server;
    q.tcp = a.tcp;
    q.timeout_ms = a.timeout_ms;
    q.udp_tries = a.tries;
    const std::string server_text = server->to_string();
    auto reply = socket::exchange(q, *request);
    if (!reply.ok())
        return report_failure(a, server_text, spec.handle, reply.error());

    tools::DigExchange x;
    x.server = server_text;
    x.tcp = a.tcp;
    x.question = spec.handle;
    x.opcode = spec.opcode;
    x.request_id = spec.request_id;
    x.digest_requested = a.digest;
    const ByteSpan hb = socket::request_header_and_body(*request);
    x.request_header_and_body.assign(hb.begin(), hb.end());
    x.reply = std::move(reply.value());
    const tools::DigFormatOptions fo{a.hex};
    const tools::DigOutput out = a.json ? tools::format_json(x, fo) : tools::format_text(x, fo);
    if (!a.quiet)
        std::fputs(out.text.c_str(), stdout);
    return out.exit_code;
}
