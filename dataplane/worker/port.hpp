#pragma once
/// The boundary between the run loop and a NIC queue (DESIGN.md section 2): a burst of packet
/// buffers moved by value, and the Port concept every driver satisfies. The worker is a template
/// over it, so the hot path has no virtual calls; only the driver knows what `cookie` is (an
/// rte_mbuf*, an AF_XDP frame address, a MemPort buffer address).
/// Thread-safety: a Port object is driven by one worker thread (one per lcore and queue).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "dataplane/packet/checksum.hpp"

namespace idpath::worker {

/// One packet buffer. `data` points at the frame's first octet, `length` is the frame,
/// `capacity` the octets writable from `data` (a reply may be longer than the request).
/// The checksum fields travel with the buffer between the port and the worker (docs/
/// packet-path.md "Checksums"); a port that knows nothing of offload leaves them default, so
/// four-field initialisers {data, length, capacity, cookie} stay valid.
struct PacketRef {
    std::uint8_t* data;
    std::uint16_t length;
    std::uint16_t capacity;
    void* cookie;
    /// Set by rx_burst: what the NIC verified (Unknown on ports without RX checksum offload).
    packet::ChecksumHint rx_checksums{};
    /// Set by the worker before tx_burst: the checksums the NIC is to complete. Only a port
    /// whose tx_checksum_offload() is true is ever given a request other than None.
    packet::TxChecksums tx_checksums{};
};

// Copied by value through every burst array: keep it two to a cache line and memcpy-able.
static_assert(sizeof(PacketRef) <= 32);
static_assert(std::is_trivially_copyable_v<PacketRef>);

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

/// Optional Port member: `bool tx_checksum_offload() const`, true when tx_burst has the NIC
/// complete the IPv4 header and UDP checksums a PacketRef's tx_checksums asks for. Worker
/// reads it once, at construction, and then writes UDP replies in ChecksumMode::Offload; a port
/// without the member (MemPort, the socket port) gets software checksums.
template <typename P>
bool tx_checksum_offload(const P& port) noexcept
{
    if constexpr (requires { { port.tx_checksum_offload() } -> std::convertible_to<bool>; })
        return port.tx_checksum_offload();
    else
        return false;
}

} // namespace idpath::worker
