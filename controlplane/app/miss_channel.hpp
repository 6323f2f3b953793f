#pragma once
/// Where the recursive role's resolver threads find punted requests and send the replies
/// (docs/recursion.md): one channel per serving thread. A UDP socket thread's replies leave by
/// its socket (SocketMissChannel); a DPDK worker's go back to its inbox as frames for the lcore
/// to transmit (FrameMissChannel).
/// Thread-safety: serve_one() from any resolver thread; a busy channel is skipped, not waited on.

#include <cstdint>
#include <functional>

#include "dataplane/base/bytes.hpp"

namespace idpath::app {

class MissChannel {
public:
    enum class Served : std::uint8_t {
        None,       // nothing was waiting (or another resolver thread holds the channel)
        Silent,     // taken; `resolve` had no reply for it
        Replied,    // taken and answered
        SendFailed, // taken; the reply could not be handed on (socket error, full inbox)
    };
    /// Maps a punted request (envelope + message, one datagram) to its reply (the same form, the
    /// message whole: the channel cuts it into datagrams); empty: no reply.
    using Resolve = std::function<ByteSpan(ByteSpan request)>;

    virtual ~MissChannel() = default;
    /// Takes the oldest punted request, if any, resolves it and sends the reply back the way the
    /// request came.
    virtual Served serve_one(const Resolve& resolve) = 0;
};

} // namespace idpath::app
