#include "controlplane/recursion/upstream.hpp"

#include <random>
#include <utility>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/message.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/client.hpp"
#include "drivers/socket/clock.hpp"
#include "drivers/socket/request.hpp"

namespace idpath::recursion {

namespace {

std::uint32_t next_request_id()
{
    // A positive RequestId, as HANDLE.NET sends; per thread so the engine needs no lock here.
    thread_local std::mt19937 rng{std::random_device{}()};
    return (rng() & 0x7fffffffu) | 1u;
}

/// The query-capable interfaces to try, UDP ones before TCP ones (HANDLE.NET's preference
/// list without HTTP, which idpath does not speak as a client).
std::vector<wire::SiteInterface> query_interfaces(const wire::SiteServer& server)
{
    std::vector<wire::SiteInterface> out;
    for (const std::uint8_t protocol : {wire::site::kProtocolUdp, wire::site::kProtocolTcp})
        for (const wire::SiteInterface& i : server.interfaces)
            if ((i.type & wire::site::kInterfaceQuery) && i.protocol == protocol && i.port != 0 &&
                i.port <= 65535) {
                out.push_back(i);
                break;
            }
    return out;
}

} // namespace

Result<UpstreamReply, std::string>
ask_server(const wire::SiteServer& server, std::string_view question,
           std::span<const std::string> types, std::uint8_t recursion_count,
           const UpstreamOptions& options, Counters& counters, std::vector<Hop>* trace)
{
    const std::vector<wire::SiteInterface> interfaces = query_interfaces(server);
    const std::string address = wire::format_site_address(server.address);
    if (interfaces.empty())
        return Err(std::string("server ") + address + " has no UDP or TCP query interface");

    std::string last_error;
    for (const wire::SiteInterface& itf : interfaces) {
        const bool tcp = itf.protocol == wire::site::kProtocolTcp;
        const auto endpoint = socket::parse_endpoint(address, static_cast<std::uint16_t>(itf.port));
        if (!endpoint) {
            last_error = "unusable server address " + address;
            continue;
        }
        socket::RequestSpec spec;
        spec.handle = std::string(question);
        spec.types.assign(types.begin(), types.end());
        spec.op_flags = options.op_flags
                            ? options.op_flags
                            : (wire::opflag::kCacheCertify | wire::opflag::kPublicOnly);
        spec.request_id = next_request_id();
        spec.expiration = socket::unix_seconds() + wire::kDefaultExpirationSeconds;
        spec.recursion_count = recursion_count;
        auto request = socket::encode_request(spec);
        if (!request.ok())
            return Err("cannot encode a request for " + std::string(question));

        socket::QueryOptions q;
        q.server = *endpoint;
        q.tcp = tcp;
        q.timeout_ms = tcp ? options.tcp_timeout_ms : options.udp_timeout_ms;
        q.udp_tries = options.udp_tries;
        q.cancel = options.cancel;
        Counters::bump(tcp ? counters.upstream_tcp : counters.upstream_udp);

        Hop hop;
        hop.question = spec.handle;
        hop.server = endpoint->to_string();
        hop.tcp = tcp;
        hop.request_id = spec.request_id;
        const ByteSpan hb = socket::request_header_and_body(*request);
        const auto record = [&](Hop h) {
            if (trace) {
                h.request_header_and_body.assign(hb.begin(), hb.end());
                trace->push_back(std::move(h));
            }
        };

        auto reply = socket::exchange(q, *request);
        if (!reply.ok() && reply.error().kind == socket::ClientError::Kind::Cancelled)
            return Err(std::string("cancelled: the resolver is stopping"));
        if (!reply.ok()) {
            const bool timeout = reply.error().kind == socket::ClientError::Kind::Timeout;
            if (timeout)
                Counters::bump(counters.timeouts);
            last_error = (timeout ? "timeout: " : "no reply: ") + reply.error().message + " (" +
                         hop.server + (tcp ? " tcp)" : " udp)");
            hop.note = last_error;
            record(std::move(hop));
            continue;
        }
        const auto message = wire::decode_message(reply->message);
        auto body = message.ok()
                        ? wire::decode_response_body(message->header, message->body)
                        : Result<wire::DecodedResponse, wire::WireError>(Err(message.error()));
        if (!body.ok()) {
            last_error = "malformed reply from " + hop.server;
            hop.note = "malformed reply";
            hop.reply = std::move(reply.value());
            record(std::move(hop));
            continue;
        }
        UpstreamReply out;
        out.header = message->header;
        out.body = std::move(body.value());
        out.server = hop.server;
        out.tcp = tcp;
        hop.response_code = out.header.response_code;
        hop.reply = std::move(reply.value());
        record(std::move(hop));
        return out;
    }
    return Err(std::move(last_error));
}

} // namespace idpath::recursion
