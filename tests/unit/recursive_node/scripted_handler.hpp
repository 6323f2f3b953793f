#pragma once
// What the channel tests share: a resolver thread's handler with a scripted reply, and replies of
// a given size.

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "controlplane/app/miss_channel.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::app::test {

/// A resolver thread's handler with a scripted reply; remembers what it was shown and told.
class Scripted final : public MissChannel::Handler {
public:
    explicit Scripted(std::vector<std::uint8_t> reply = {}) : reply_(std::move(reply)) {}

    ByteSpan reply(const Punted& p) override
    {
        request.assign(p.request.begin(), p.request.end());
        peer = p.peer;
        rx_ns = p.rx_ns;
        probed = p.probed;
        ++replies;
        return reply_;
    }
    void sent(const Punted& p, std::uint32_t datagrams) override
    {
        EXPECT_EQ(p.rx_ns, rx_ns) << "the same request as reply() saw";
        sent_datagrams = datagrams;
        ++sents;
    }
    querylog::Probe* probe() override { return capture; }

    std::vector<std::uint8_t> request;
    querylog::Peer peer{};
    std::uint64_t rx_ns = 0;
    bool probed = false;
    querylog::Probe* capture = nullptr; // what probe() gives the channel
    std::uint32_t sent_datagrams = 99; // until sent() says
    int replies = 0, sents = 0;

private:
    std::vector<std::uint8_t> reply_;
};

/// A reply of `message_length` octets: an envelope (RequestId 0x01020304, MessageLength set)
/// and a message whose octets count up.
inline std::vector<std::uint8_t> reply_of(std::size_t message_length)
{
    std::vector<std::uint8_t> r(wire::kEnvelopeSize + message_length);
    r[0] = 2;
    r[1] = 11;
    store_be32(r.data() + 8, 0x01020304);
    store_be32(r.data() + 16, static_cast<std::uint32_t>(message_length));
    for (std::size_t i = 0; i < message_length; ++i)
        r[wire::kEnvelopeSize + i] = static_cast<std::uint8_t>(i % 251);
    return r;
}

} // namespace idpath::app::test
