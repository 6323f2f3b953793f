#pragma once
/// A DPDK worker's punt queues as a MissChannel (dataplane/worker/punt.hpp): the reply's
/// datagrams are written as finished frames (checksums computed here, not on the lcore) into the
/// worker's inbox, all or none, and the lcore transmits them at its next poll.
/// Thread-safety: as MissChannel.

#include <atomic>
#include <cstdint>

#include "controlplane/app/miss_channel.hpp"
#include "dataplane/worker/punt.hpp"

namespace idpath::app {

class FrameMissChannel final : public MissChannel {
public:
    /// `queues` must outlive the channel's use.
    explicit FrameMissChannel(worker::PuntQueues& queues) : queues_(queues) {}
    Served serve_one(Handler& handler) override;

private:
    worker::PuntQueues& queues_;
    std::atomic<std::uint16_t> ipv4_id_{0};
};

} // namespace idpath::app
