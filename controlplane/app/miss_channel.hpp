#pragma once
/// Where the recursive role's resolver threads find punted requests and send the replies
/// (docs/recursion.md): one channel per serving thread. A UDP socket thread's replies leave by
/// its socket (SocketMissChannel); a DPDK worker's go back to its inbox as frames for the lcore
/// to transmit (FrameMissChannel).
/// Thread-safety: serve_one() from any resolver thread; a busy channel is skipped, not waited on.

#include <cstdint>

#include "dataplane/base/bytes.hpp"
#include "dataplane/querylog/fill.hpp"
#include "dataplane/querylog/probe.hpp"

namespace idpath::app {

/// One punted request as a resolver thread sees it: valid during serve_one() only.
struct Punted {
    ByteSpan request;      // envelope + message (one UDP datagram, or one TCP frame)
    querylog::Peer peer;   // both ends, as the serving thread logged them
    std::uint64_t rx_ns;   // its arrival (realtime ns), 0 when the serving thread logs nothing
    bool probed = false;   // the serving thread's probe captured the request: capture the reply
};

class MissChannel {
public:
    enum class Served : std::uint8_t {
        None,       // nothing was waiting (or another resolver thread holds the channel)
        Silent,     // taken; the handler had no reply for it
        Replied,    // taken and answered
        SendFailed, // taken; the reply could not be handed on (socket error, full inbox)
    };

    /// What a resolver thread does with a punted request.
    class Handler {
    public:
        /// The reply (envelope + message whole: the channel cuts it into datagrams); empty: none.
        virtual ByteSpan reply(const Punted& p) = 0;
        /// After the reply went (`datagrams` of it handed to the transport; 0: none).
        virtual void sent(const Punted& p, std::uint32_t datagrams) = 0;
        /// This resolver thread's probe, or null when probe mode is off. The channel copies
        /// each datagram of a probed request's reply into it as it hands the datagram on;
        /// sent() publishes them.
        virtual querylog::Probe* probe() = 0;

    protected:
        ~Handler() = default;
    };

    virtual ~MissChannel() = default;
    /// Takes the oldest punted request, if any, asks `handler` for the reply, sends it back the
    /// way the request came, and tells `handler` what went.
    virtual Served serve_one(Handler& handler) = 0;
};

} // namespace idpath::app
