#pragma once
/// A UDP serving thread's miss ring as a MissChannel: replies go out of that thread's socket
/// with sendmsg(), from the local address the request came to (its stored pktinfo).
/// Thread-safety: as MissChannel.

#include "controlplane/app/miss_channel.hpp"
#include "drivers/socket/miss_ring.hpp"

namespace idpath::app {

class SocketMissChannel final : public MissChannel {
public:
    /// `ring` (and the sockets its misses name) must outlive the channel's use.
    explicit SocketMissChannel(socket::MissRing& ring) : ring_(ring) {}
    Served serve_one(Handler& handler) override;

private:
    socket::MissRing& ring_;
};

} // namespace idpath::app
