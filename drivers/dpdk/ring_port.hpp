#pragma once
/// A loopback ethdev for tests: one rte_ring used as both the RX and the TX queue of a ring
/// PMD port, so whatever is transmitted is received again.
///
/// Thread-safety: main thread only, after Eal::init().

#include <cstdint>
#include <string>

#include "dataplane/base/result.hpp"

namespace idpath::dpdk {

/// Creates the ring (1024 slots) and the port "net_ring_" + `name`; returns its port id.
/// The ring lives until EAL cleanup. The error carries rte_strerror's text.
Result<std::uint16_t, std::string> make_loopback_ring_port(const std::string& name);

} // namespace idpath::dpdk
