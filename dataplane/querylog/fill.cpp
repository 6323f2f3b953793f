#include "dataplane/querylog/fill.hpp"

#include <algorithm>
#include <cstring>

#include "dataplane/wire/constants.hpp"

namespace idpath::querylog {

std::uint8_t family_of(const std::array<std::uint8_t, 16>& address) noexcept
{
    constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(address.data(), kMapped, sizeof kMapped) == 0 ? 4 : 6;
}

void fill_query(Record& r, const Peer& peer, const resolve::Outcome& o,
                std::uint32_t datagrams) noexcept
{
    r.family = peer.family;
    r.transport = peer.transport;
    r.action = o.punt ? Action::Recursed : Action::Allowed;
    r.silence = static_cast<std::uint8_t>(o.silence);
    r.flags = static_cast<std::uint8_t>((o.multi_datagram ? kFlagMultiDatagramRequest : 0) |
                                        (o.malformed ? kFlagMalformed : 0) |
                                        (o.oversize ? kFlagOversize : 0));
    r.opcode = o.opcode;
    r.response_code = o.response_code;
    r.request_bytes = o.request_bytes;
    r.values = static_cast<std::uint16_t>(std::min<std::uint32_t>(o.values, 0xffff));
    set_sent(r, o, datagrams);
    r.client_port = peer.client_port;
    r.server_port = peer.server_port;
    std::memcpy(r.client, peer.client.data(), sizeof r.client);
    std::memcpy(r.server, peer.server.data(), sizeof r.server);
    if (!o.handle.empty())
        set_handle(r, o.handle.data(), o.handle.size());
}

void set_sent(Record& r, const resolve::Outcome& o, std::uint32_t datagrams) noexcept
{
    if (!o.answered())
        datagrams = 0;
    r.datagrams = static_cast<std::uint16_t>(std::min<std::uint32_t>(datagrams, 0xffff));
    // As the Responder counts bytes_out: each datagram after the first repeats the envelope.
    r.response_bytes = datagrams == 0
                           ? 0
                           : static_cast<std::uint32_t>(o.size + (datagrams - 1) * wire::kEnvelopeSize);
}

} // namespace idpath::querylog
