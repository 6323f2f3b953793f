#pragma once
// For the run loop's log and probe tests: a MemPort that notes what the ring showed at each
// tx_burst (nothing may be published before the burst is sent) and lets a known time pass there,
// and draining a ring into a vector.

#include <cstdint>
#include <span>
#include <vector>

#include "tests/unit/worker/worker_rig.hpp"

namespace idpath::worker::test {

/// `tx_ns` is added to the test's fake clock `now_ns` at each tx_burst (the transmit), so the
/// stamped latencies and times are known.
template <class Ring>
class WatchedPort {
public:
    WatchedPort(std::size_t buffers, Ring& ring, std::uint64_t& now_ns, std::uint64_t tx_ns)
        : mem(buffers), ring_(ring), now_ns_(now_ns), tx_ns_(tx_ns)
    {
    }
    std::size_t rx_burst(std::span<PacketRef> b) noexcept { return mem.rx_burst(b); }
    std::size_t tx_burst(std::span<PacketRef> b) noexcept
    {
        visible_at_tx.push_back(ring_.peek().size());
        now_ns_ += tx_ns_;
        return mem.tx_burst(b);
    }
    std::size_t alloc(std::span<PacketRef> b) noexcept { return mem.alloc(b); }
    void free(std::span<PacketRef> b) noexcept { mem.free(b); }

    MemPort mem;
    std::vector<std::size_t> visible_at_tx;

private:
    Ring& ring_;
    std::uint64_t& now_ns_;
    std::uint64_t tx_ns_;
};

/// Everything the ring holds, oldest first; the ring is left empty.
template <class Ring>
auto drain(Ring& ring)
{
    const auto r = ring.peek();
    std::vector<typename decltype(r.first)::value_type> out(r.first.begin(), r.first.end());
    out.insert(out.end(), r.second.begin(), r.second.end());
    ring.release(r.size());
    return out;
}

} // namespace idpath::worker::test
