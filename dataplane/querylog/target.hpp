#pragma once
/// Where one serving thread writes its query records: the ring and the source id it writes as.
/// Transports take these in their options (default: none, the mirror off) and make the thread's
/// QueryLog from one; the rings (idpathd's mirror::RingSet) must outlive the transport.

#include <cstdint>

#include "dataplane/querylog/query_log.hpp"

namespace idpath::querylog {

struct Target {
    Ring* ring = nullptr; // null: this thread logs nothing
    std::uint16_t source = 0;
    std::uint64_t heartbeat_ns = QueryLog::kDefaultHeartbeatNs;
};

} // namespace idpath::querylog
