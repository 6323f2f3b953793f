// classify() on arbitrary frames; for each answerable verdict, the reply is built in a
// 2048-octet copy and must itself classify cleanly (never Malformed).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dataplane/packet/packet.hpp"
#include "dataplane/packet/reply.hpp"

using namespace idpath;
using namespace idpath::packet;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

PacketConfig config()
{
    PacketConfig c;
    c.mac = {0x02, 0, 0, 0, 0, 0x01};
    c.ports = {2641, 2642};
    c.port_count = 2;
    c.ipv4[0] = {192, 0, 2, 1};
    c.ipv4_count = 1;
    c.ipv6[0] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c.ipv6[1] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c.ipv6_count = 2;
    return c;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const PacketConfig kConfig = config();
    const PacketView v = classify(ByteSpan{data, size}, kConfig);
    check(static_cast<std::size_t>(v.verdict) < static_cast<std::size_t>(Verdict::Count_));
    check((v.verdict == Verdict::Malformed) == (v.reason != MalformedReason::None));
    if (size > 2048)
        return 0;
    std::array<std::uint8_t, 2048> buf{};
    std::memcpy(buf.data(), data, size);
    std::size_t len = 0;
    switch (v.verdict) {
    case Verdict::HandleRequest: {
        check(v.payload.data() >= data && v.payload.data() + v.payload.size() <= data + size);
        // The answer is the request's payload repeated to a length the input chooses.
        const std::size_t want = std::min<std::size_t>(v.payload.size() * 3 + 1,
                                                       buf.size() - v.payload_offset);
        for (std::size_t i = v.payload.size(); i < want; ++i)
            buf[v.payload_offset + i] = static_cast<std::uint8_t>(i);
        len = write_udp_reply(buf, v, want);
        check(len != 0);
        std::array<std::uint8_t, 2048> next{};
        const std::size_t n2 = write_udp_reply_next(next, ByteSpan{buf.data(), len}, v, v.payload);
        check(n2 != 0);
        check(classify(ByteSpan{next.data(), n2}, PacketConfig{}).verdict != Verdict::Malformed);
        break;
    }
    case Verdict::ArpRequest:
        len = write_arp_reply(buf, v, kConfig);
        check(len != 0);
        break;
    case Verdict::NeighborSolicitation:
        len = write_neighbor_advertisement(buf, v, kConfig);
        check(len != 0);
        break;
    case Verdict::IcmpEchoRequest:
        len = write_icmp_echo_reply(buf, v);
        check(len != 0);
        break;
    case Verdict::Icmpv6EchoRequest:
        len = write_icmpv6_echo_reply(buf, v);
        check(len != 0);
        break;
    default:
        return 0;
    }
    // The reply, seen by its receiver (who owns the request's source address and port).
    PacketConfig peer;
    peer.ports[0] = v.src_port;
    if (v.family == L3Family::Ipv4 || v.verdict == Verdict::ArpRequest) {
        std::memcpy(peer.ipv4[0].data(), v.src_addr.data() + 12, 4);
        peer.ipv4_count = 1;
    } else {
        peer.ipv6[0] = v.src_addr;
        peer.ipv6_count = 1;
    }
    const PacketView r = classify(ByteSpan{buf.data(), len}, peer);
    check(r.verdict != Verdict::Malformed);
    if (v.verdict == Verdict::HandleRequest)
        check(r.verdict == Verdict::HandleRequest);
    return 0;
}
