// Google Benchmark of the run loop: items/s is request frames through Worker<MemPort> (classify,
// resolve, reply in place, one tx_burst per burst) on one core, over a table of 1 k identifiers.
// Injecting frames into the MemPort and draining its TX list are inside the timed loop: they are
// memcpy and free-list work, like a NIC's descriptor handling.

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/worker/worker.hpp"
#include "drivers/mem/mem_port.hpp"
#include "perf/micro/corpus.hpp"

namespace idpath::bench {
namespace {

constexpr std::size_t kFrames = 4096;

packet::PacketConfig server_config()
{
    packet::PacketConfig c;
    c.mac = {0x02, 0, 0, 0, 0, 0x01};
    c.ipv4[0] = {192, 0, 2, 1};
    c.ipv4_count = 1;
    return c;
}

/// Ethernet + IPv4 + UDP from 198.51.100.7:40000 to our service port, checksummed.
std::vector<std::uint8_t> udp4_frame(ByteSpan payload)
{
    std::vector<std::uint8_t> f(42 + payload.size());
    std::uint8_t* p = f.data();
    const std::uint8_t macs[] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    std::memcpy(p, macs, sizeof macs);
    store_be16(p + 12, packet::kEtherTypeIpv4);
    std::uint8_t* ip = p + 14;
    const std::uint8_t header[] = {0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0,
                                   198, 51, 100, 7, 192, 0, 2, 1};
    std::memcpy(ip, header, sizeof header);
    store_be16(ip + 2, static_cast<std::uint16_t>(28 + payload.size()));
    store_be16(ip + 10, packet::internet_checksum({ip, 20}));
    std::uint8_t* udp = ip + 20;
    const auto udp_length = static_cast<std::uint16_t>(8 + payload.size());
    store_be16(udp, 40000);
    store_be16(udp + 2, wire::kDefaultPort);
    store_be16(udp + 4, udp_length);
    std::memcpy(udp + 8, payload.data(), payload.size());
    const std::uint16_t c = packet::checksum_finish(
        packet::checksum_add(packet::pseudo_header_v4(ip + 12, ip + 16, 17, udp_length),
                             ByteSpan{udp, udp_length}));
    store_be16(udp + 6, c == 0 ? 0xffff : c);
    return f;
}

void BM_WorkerPoll(benchmark::State& state)
{
    const Corpus& c = corpus(1000);
    const RequestPool pool = make_requests(c, RequestKind::Hit);
    std::vector<std::vector<std::uint8_t>> frames;
    frames.reserve(kFrames);
    for (std::size_t i = 0; i < kFrames; ++i)
        frames.push_back(udp4_frame(pool.datagrams[i]));

    const resolve::Policy policy;
    drivers::mem::MemPort port(4 * worker::kBurstSize * worker::kMaxDatagramsPerAnswer);
    worker::Worker<drivers::mem::MemPort> w(port, server_config(), policy);
    std::size_t next = 0;
    std::size_t packets = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < worker::kBurstSize; ++i) {
            port.inject(frames[next]);
            next = (next + 1) % kFrames;
        }
        packets += w.poll_once(*c.table, kNow, 0);
        benchmark::DoNotOptimize(port.drain_tx());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    if (w.stats().tx.get() != w.stats().rx.get())
        state.SkipWithError("not every request was answered with one datagram");
}
BENCHMARK(BM_WorkerPoll);

} // namespace
} // namespace idpath::bench
