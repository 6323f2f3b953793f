#include "controlplane/app/tcp_miss_channel.hpp"

#include <memory>

#include "dataplane/wire/constants.hpp"

namespace idpath::app {

MissChannel::Served TcpMissChannel::serve_one(Handler& handler)
{
    // Per resolver thread, on the heap once: a miss is over 2 KiB.
    thread_local const std::unique_ptr<socket::TcpMiss> miss = std::make_unique<socket::TcpMiss>();
    if (!queue_.misses.take(*miss))
        return Served::None;
    const Punted p{{miss->request.data(), miss->length}, miss->peer, miss->rx_ns};
    const ByteSpan reply = handler.reply(p);
    if (reply.size() < wire::kEnvelopeSize) {
        // The connection waits for this request's answer: an empty reply tells the loop to
        // close it rather than leave it until the punt timeout.
        (void)queue_.give(miss->slot, miss->generation, {});
        handler.sent(p, 0);
        return Served::Silent;
    }
    const bool queued = queue_.give(miss->slot, miss->generation, reply);
    handler.sent(p, queued ? 1 : 0);
    return queued ? Served::Replied : Served::SendFailed;
}

} // namespace idpath::app
