#pragma once
/// The TCP loop's punt queue as a MissChannel (drivers/socket/tcp_punt.hpp): the reply goes
/// back whole (TCP does not cut it into datagrams) to the loop, which writes it on the
/// connection the request came on, or drops it when that connection has closed since.
/// Thread-safety: as MissChannel.

#include "controlplane/app/miss_channel.hpp"
#include "drivers/socket/tcp_punt.hpp"

namespace idpath::app {

class TcpMissChannel final : public MissChannel {
public:
    /// `queue` must outlive the channel's use.
    explicit TcpMissChannel(socket::TcpPuntQueue& queue) : queue_(queue) {}
    Served serve_one(Handler& handler) override;

private:
    socket::TcpPuntQueue& queue_;
};

} // namespace idpath::app
