#include "drivers/dpdk/ring_port.hpp"

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_ring.h>

namespace idpath::dpdk {

Result<std::uint16_t, std::string> make_loopback_ring_port(const std::string& name)
{
    const std::string ring_name = "lo_" + name;
    // Single producer and consumer: the port's one TX and one RX queue, on one lcore.
    rte_ring* ring = rte_ring_create(ring_name.c_str(), 1024, int(rte_socket_id()),
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring == nullptr)
        return Err{"rte_ring_create " + ring_name + ": " + rte_strerror(rte_errno)};
    rte_ring* const rings[] = {ring};
    const int port = rte_eth_from_rings(name.c_str(), rings, 1, rings, 1, int(rte_socket_id()));
    if (port < 0) {
        const std::string why = rte_strerror(rte_errno);
        rte_ring_free(ring);
        return Err{"rte_eth_from_rings " + name + ": " + why};
    }
    return static_cast<std::uint16_t>(port);
}

} // namespace idpath::dpdk
