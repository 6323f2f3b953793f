#pragma once
/// The boundary between the run loop and a NIC queue (DESIGN.md section 2): a burst of packet
/// buffers moved by value, and the Port concept every driver satisfies. The worker is a template
/// over it, so the hot path has no virtual calls; only the driver knows what `cookie` is (an
/// rte_mbuf*, an AF_XDP frame address, a MemPort buffer index).
/// Thread-safety: a Port object is driven by one worker thread (one per lcore and queue).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace idpath::worker {

/// One packet buffer. `data` points at the frame's first octet, `length` is the frame,
/// `capacity` the octets writable from `data` (a reply may be longer than the request).
struct PacketRef {
    std::uint8_t* data;
    std::uint16_t length;
    std::uint16_t capacity;
    void* cookie;
};

/// Packets moved per rx_burst / tx_burst (DESIGN.md section 3, step 1).
inline constexpr std::size_t kBurstSize = 32;

/// Ownership: rx_burst and alloc hand buffers to the caller; tx_burst takes ownership of the
/// first n packets it returns it accepted, and the caller must free() the rest. Every buffer
/// the caller owns ends in exactly one tx_burst acceptance or free(). None of the calls may
/// block, allocate or throw on a production port.
template <typename P>
concept Port = requires(P& port, std::span<PacketRef> burst) {
    /// Fills up to burst.size() received packets; returns how many.
    { port.rx_burst(burst) } -> std::same_as<std::size_t>;
    /// Queues the packets for transmission; returns how many (a prefix) were accepted.
    { port.tx_burst(burst) } -> std::same_as<std::size_t>;
    /// Fills up to burst.size() fresh empty buffers (length 0); returns how many.
    { port.alloc(burst) } -> std::same_as<std::size_t>;
    /// Returns the buffers to the port's pool.
    port.free(burst);
};

} // namespace idpath::worker
