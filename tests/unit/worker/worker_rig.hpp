#pragma once
// A Worker over a MemPort with the small resolve table, and checks shared by the worker tests.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/packet/packet.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/worker/worker.hpp"
#include "drivers/mem/mem_port.hpp"
#include "tests/unit/packet/packet_test_util.hpp"
#include "tests/unit/resolve/resolve_fixture.hpp"
#include "tests/unit/worker/worker_frames.hpp"

namespace idpath::worker::test {

using drivers::mem::MemPort;

inline constexpr std::uint32_t kNow = 1800000000;

struct Rig {
    explicit Rig(std::size_t buffers = 64, std::size_t buffer_size = MemPort::kDefaultBufferSize,
                 resolve::Policy p = {},
                 std::shared_ptr<const table::Table> t = idpath::test::small_table())
        : policy(std::move(p)), port(buffers, buffer_size),
          worker(port, packet::test::our_config(), policy), table(std::move(t))
    {
    }

    std::size_t poll() { return worker.poll_once(*table, kNow, 0); }
    const WorkerStats& stats() const { return worker.stats(); }
    std::uint64_t verdicts(packet::Verdict v) const { return stats().packets.of(v); }

    resolve::Policy policy;
    MemPort port;
    Worker<MemPort> worker;
    std::shared_ptr<const table::Table> table;
};

/// The Handle request for `handle`, as a UDP payload (envelope + message).
inline std::vector<std::uint8_t> request_payload(std::string_view handle)
{
    return idpath::test::make_request(handle).bytes;
}

/// Checks a UDP reply frame from the client's side: it classifies as a valid HandleRequest to
/// the client (so every checksum and length is right), with addresses, ports and MACs swapped.
/// Returns the UDP payload.
inline std::vector<std::uint8_t> client_side_payload(const std::vector<std::uint8_t>& frame,
                                                     bool ipv6)
{
    const auto client = packet::test::client_config();
    const auto ours = packet::test::our_config();
    const packet::PacketView v = packet::classify(frame, client);
    EXPECT_EQ(v.verdict, packet::Verdict::HandleRequest) << packet::to_string(v.reason);
    EXPECT_TRUE(std::equal(ours.mac.begin(), ours.mac.end(), frame.begin() + 6));
    EXPECT_TRUE(std::equal(client.mac.begin(), client.mac.end(), frame.begin()));
    EXPECT_EQ(v.family, ipv6 ? packet::L3Family::Ipv6 : packet::L3Family::Ipv4);
    const packet::IpAddress ours_ip = ipv6 ? ours.ipv6[0] : packet::map_ipv4(ours.ipv4[0].data());
    const packet::IpAddress client_ip =
        ipv6 ? client.ipv6[0] : packet::map_ipv4(client.ipv4[0].data());
    EXPECT_EQ(v.src_addr, ours_ip);
    EXPECT_EQ(v.dst_addr, client_ip);
    EXPECT_EQ(v.src_port, kServicePort);
    EXPECT_EQ(v.dst_port, kClientPort);
    // Independently of classify(): the UDP checksum sums to zero with its pseudo-header.
    EXPECT_EQ(packet::test::ref_l4_checksum(frame.data() + v.l3_offset, ipv6, 17,
                                            frame.data() + v.l4_offset, v.l4_length),
              0);
    return std::vector<std::uint8_t>(v.payload.begin(), v.payload.end());
}

} // namespace idpath::worker::test
