// Google Benchmark of the run loop: items/s is request frames through Worker<MemPort> (classify,
// resolve, reply in place, one tx_burst per burst) on one core, over a table of 1 k identifiers;
// the same with checksum offload in both directions; the full resolve path at scale
// (BM_ResolvePath: idpath-datagen's realistic identifiers, 1 k to 10 M, hits, misses or both,
// one request or a full burst per poll); and the UDP reply writer alone, with and without its
// software checksums; and BM_WorkerPoll with the query log on (BM_WorkerPollLogged), the hot-path
// cost of the log mirror, with the log's own work alone in BM_QueryLogRecord.
// Injecting frames into the MemPort and draining its TX list are inside the timed loop: they are
// memcpy and free-list work, like a NIC's descriptor handling.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/packet/checksum.hpp"
#include "dataplane/packet/packet.hpp"
#include "dataplane/packet/reply.hpp"
#include "dataplane/querylog/clock.hpp"
#include "dataplane/querylog/fill.hpp"
#include "dataplane/querylog/probe.hpp"
#include "dataplane/querylog/query_log.hpp"
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

/// `count` frames over the pool's datagrams, in pool order (repeating when count is larger).
std::vector<std::vector<std::uint8_t>> frames_of(const RequestPool& pool, std::size_t count)
{
    std::vector<std::vector<std::uint8_t>> frames;
    frames.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        frames.push_back(udp4_frame(pool.datagrams[i % pool.datagrams.size()]));
    return frames;
}

/// One timed burst: the next `burst` frames (cycling through `frames`) into `mem`, one poll of
/// `w`, its replies taken off. Returns the frames the worker received.
template <class W>
std::size_t poll_burst(W& w, drivers::mem::MemPort& mem, const std::vector<std::vector<std::uint8_t>>& frames,
                       std::size_t& next, const table::Table& table, std::size_t burst = worker::kBurstSize)
{
    for (std::size_t i = 0; i < burst; ++i) {
        mem.inject(frames[next]);
        next = next + 1 == frames.size() ? 0 : next + 1;
    }
    const std::size_t n = w.poll_once(table, kNow, 0);
    benchmark::DoNotOptimize(mem.drain_tx());
    return n;
}

/// Arg: identifiers in the table. Past a few thousand the table no longer fits the caches, so
/// the frames cycle over far more handles than the caches hold.
void BM_WorkerPoll(benchmark::State& state)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const RequestPool pool = make_requests(c, RequestKind::Hit);
    const std::size_t frame_count = c.table->size() > 100000 ? 16 * kFrames : kFrames;
    const auto frames = frames_of(pool, frame_count);

    const resolve::Policy policy;
    drivers::mem::MemPort port(4 * worker::kBurstSize * worker::kMaxDatagramsPerAnswer);
    worker::Worker<drivers::mem::MemPort> w(port, server_config(), policy);
    std::size_t next = 0;
    std::size_t packets = 0;
    for (auto _ : state) {
        packets += poll_burst(w, port, frames, next, *c.table);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    if (w.stats().tx.get() != w.stats().rx.get())
        state.SkipWithError("not every request was answered with one datagram");
}
BENCHMARK(BM_WorkerPoll)->Arg(1000)->Arg(1000000);

/// How BM_WorkerPollLogged runs the query log.
enum LogMode : std::int64_t {
    kLogOff = 0,      // no log set: the branch per burst and per request only
    kLogDrained = 1,  // on; the timed loop releases the ring after each burst (records stay hot)
    kLogConsumer = 2, // on; a consumer thread reads every record, as the exporter does
};

/// BM_WorkerPoll with the query log (docs/PERFORMANCE.md, log mirror): args identifiers and
/// LogMode. Every request writes a 256-octet record in place and the realtime clock is read
/// twice per burst. The ring (64 k records, 16 MiB) must never fill: a full ring would only make
/// logging cheaper (nothing written) and the benchmark fails if any record is lost.
void BM_WorkerPollLogged(benchmark::State& state)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const auto mode = static_cast<LogMode>(state.range(1));
    const RequestPool pool = make_requests(c, RequestKind::Hit);
    const std::size_t frame_count = c.table->size() > 100000 ? 16 * kFrames : kFrames;
    const auto frames = frames_of(pool, frame_count);

    const resolve::Policy policy;
    drivers::mem::MemPort port(4 * worker::kBurstSize * worker::kMaxDatagramsPerAnswer);
    worker::Worker<drivers::mem::MemPort> w(port, server_config(), policy);
    querylog::Ring ring(65536);
    querylog::QueryLog log(&ring, 1);
    if (mode != kLogOff)
        w.set_query_log(&log, &querylog::realtime_ns);

    std::atomic<bool> stop{false};
    std::uint64_t handle_octets = 0; // read by the consumer, so the records are really read
    std::thread consumer;
    if (mode == kLogConsumer)
        consumer = std::thread([&] {
            // Yields when there is nothing to read rather than spinning on it, so on a small
            // host it leaves the measured thread its core.
            while (!stop.load(std::memory_order_relaxed)) {
                const auto r = ring.peek();
                if (r.size() == 0) {
                    std::this_thread::yield();
                    continue;
                }
                for (const auto span : {r.first, r.second})
                    for (const querylog::Record& rec : span)
                        handle_octets += rec.handle_stored;
                ring.release(r.size());
            }
        });

    std::size_t next = 0;
    std::size_t packets = 0;
    for (auto _ : state) {
        packets += poll_burst(w, port, frames, next, *c.table);
        if (mode == kLogDrained)
            ring.release(ring.peek().size());
    }
    stop = true;
    if (consumer.joinable())
        consumer.join();
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    state.counters["records"] = static_cast<double>(log.stats().produced.get());
    state.counters["lost"] = static_cast<double>(log.stats().lost.get());
    benchmark::DoNotOptimize(handle_octets);
    if (w.stats().tx.get() != w.stats().rx.get())
        state.SkipWithError("not every request was answered with one datagram");
    else if (log.stats().lost.get() != 0)
        state.SkipWithError("the ring filled: records were lost");
    else if (mode != kLogOff && log.stats().produced.get() < packets)
        state.SkipWithError("a request was not logged");
}
BENCHMARK(BM_WorkerPollLogged)
    ->ArgNames({"ids", "log"})
    ->Args({1000, kLogOff})
    ->Args({1000, kLogDrained})
    ->Args({1000, kLogConsumer})
    ->Args({1000000, kLogOff})
    ->Args({1000000, kLogDrained})
    ->Args({1000000, kLogConsumer});

/// BM_WorkerPoll with probe mode (docs/log-mirror.md "Probe mode"): args identifiers and the
/// sampling rate (0: probe off, the branch per burst and per request only; N: one request in
/// N copied, with its reply, into the ring, released after each burst as a writer would).
void BM_WorkerPollProbed(benchmark::State& state)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const auto sample = static_cast<std::uint32_t>(state.range(1));
    const RequestPool pool = make_requests(c, RequestKind::Hit);
    const auto frames = frames_of(pool, kFrames);

    const resolve::Policy policy;
    drivers::mem::MemPort port(4 * worker::kBurstSize * worker::kMaxDatagramsPerAnswer);
    worker::Worker<drivers::mem::MemPort> w(port, server_config(), policy);
    querylog::ProbeRing ring(4096);
    querylog::Probe probe(querylog::ProbeTarget{&ring, 1, sample == 0 ? 1 : sample, querylog::kProbeSnapMax});
    if (sample != 0)
        w.set_probe(&probe, &querylog::realtime_ns);

    std::size_t next = 0;
    std::size_t packets = 0;
    for (auto _ : state) {
        packets += poll_burst(w, port, frames, next, *c.table);
        ring.release(ring.peek().size());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    state.counters["captured"] = static_cast<double>(probe.stats().captured.get());
    if (w.stats().tx.get() != w.stats().rx.get())
        state.SkipWithError("not every request was answered with one datagram");
    else if (probe.stats().lost.get() != 0)
        state.SkipWithError("the ring filled: packets were lost");
}
BENCHMARK(BM_WorkerPollProbed)
    ->ArgNames({"ids", "sample"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Args({1000, 100});

/// The log's share of BM_WorkerPollLogged alone: per request, claiming a zeroed slot and
/// filling it from a resolve::Outcome (a 12-octet handle); per burst of 32, the latency stamp,
/// the publishing store and the two clock reads. items/s is records per second on one core.
void BM_QueryLogRecord(benchmark::State& state)
{
    const std::string handle = "88.100.1/abc";
    resolve::Outcome o;
    o.opcode = 1;
    o.response_code = 1;
    o.values = 3;
    o.size = 180;
    o.request_bytes = 60;
    o.handle = as_bytes(handle);
    querylog::Peer peer;
    peer.client = packet::map_ipv4(std::array<std::uint8_t, 4>{198, 51, 100, 7}.data());
    peer.server = packet::map_ipv4(std::array<std::uint8_t, 4>{192, 0, 2, 1}.data());
    peer.client_port = 40000;
    peer.server_port = 2641;
    peer.family = 4;
    querylog::Ring ring(65536);
    querylog::QueryLog log(&ring, 1);
    for (auto _ : state) {
        const std::uint64_t rx = querylog::realtime_ns();
        for (std::size_t i = 0; i < worker::kBurstSize; ++i)
            if (querylog::Record* r = log.begin_query(rx))
                querylog::fill_query(*r, peer, o, 1);
        log.end_burst(querylog::realtime_ns());
        ring.release(ring.peek().size());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(worker::kBurstSize));
    if (log.stats().lost.get() != 0)
        state.SkipWithError("the ring filled: records were lost");
}
BENCHMARK(BM_QueryLogRecord);

/// The full resolve path at scale (docs/PERFORMANCE.md section 5): request frames through
/// Worker<MemPort> over a table of idpath-datagen's realistic identifiers (perf/datagen, built
/// in process with the generator's default options, not the fixed 341-octet corpus: handles of
/// Zipf-skewed length, 1-6 values, 50-500 octets of data, so about a third of the answers
/// take two 512-octet datagrams). `burst` requests are injected per poll_once: 1 ("single", no
/// burst to overlap lookups in) or worker::kBurstSize ("bulk", find_burst over the burst).
/// Arg: identifiers. items/s is requests answered per second of CPU time on one core (an
/// answer of two datagrams counts once); the table's memory per identifier is a counter.
void BM_ResolvePath(benchmark::State& state, RequestKind kind, std::size_t burst)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)), CorpusKind::Realistic);
    const RequestPool pool = make_requests(c, kind);
    // Every request of the pool once, so at scale nearly every answer reads a cold record.
    const std::size_t frame_count = c.table->size() > 100000 ? kPoolSize : kFrames;
    const auto frames = frames_of(pool, frame_count);

    const resolve::Policy policy;
    drivers::mem::MemPort port(4 * worker::kBurstSize * worker::kMaxDatagramsPerAnswer);
    worker::Worker<drivers::mem::MemPort> w(port, server_config(), policy);
    std::size_t next = 0;
    std::size_t requests = 0;
    for (auto _ : state) {
        requests += poll_burst(w, port, frames, next, *c.table, burst);
    }
    const auto& st = w.stats();
    if (st.dropped.get() != 0 || st.unanswered.get() != 0 || st.tx.get() < st.rx.get())
        state.SkipWithError("a request was not answered");
    const auto& t = *c.table;
    const double n = static_cast<double>(t.size());
    state.SetItemsProcessed(static_cast<std::int64_t>(requests));
    state.counters["identifiers"] = n;
    state.counters["bytes_per_identifier"] = static_cast<double>(t.memory_bytes()) / n;
    state.counters["value_bytes_per_id"] = static_cast<double>(t.value_bytes()) / n;
    state.counters["datagrams_per_answer"] =
        st.rx.get() == 0 ? 0 : static_cast<double>(st.tx.get()) / static_cast<double>(st.rx.get());
    state.counters["build_s"] = c.build_seconds;
}

/// 1 k (in cache) and 1 M identifiers by default; 10 M (~4.5 GB of table, about a minute to
/// build) only with IDPATH_MICRO_10M=1 in the environment, so a plain run stays small.
void resolve_path_sizes(benchmark::internal::Benchmark* b)
{
    b->Arg(1000)->Arg(1000000);
    if (const char* big = std::getenv("IDPATH_MICRO_10M"); big != nullptr && big[0] == '1')
        b->Arg(10000000);
    b->Unit(benchmark::kNanosecond);
}

BENCHMARK_CAPTURE(BM_ResolvePath, hit_single, RequestKind::Hit, std::size_t{1})->Apply(resolve_path_sizes);
BENCHMARK_CAPTURE(BM_ResolvePath, hit_bulk, RequestKind::Hit, worker::kBurstSize)->Apply(resolve_path_sizes);
BENCHMARK_CAPTURE(BM_ResolvePath, miss_single, RequestKind::Miss, std::size_t{1})->Apply(resolve_path_sizes);
BENCHMARK_CAPTURE(BM_ResolvePath, miss_bulk, RequestKind::Miss, worker::kBurstSize)->Apply(resolve_path_sizes);
BENCHMARK_CAPTURE(BM_ResolvePath, mixed_90_10_single, RequestKind::Mixed, std::size_t{1})
    ->Apply(resolve_path_sizes);
BENCHMARK_CAPTURE(BM_ResolvePath, mixed_90_10_bulk, RequestKind::Mixed, worker::kBurstSize)
    ->Apply(resolve_path_sizes);

/// A MemPort with a NIC's checksum offloads, as far as the worker can tell: rx_burst reports
/// both checksums Good and tx_checksum_offload() is true. Nothing completes the checksums
/// afterwards: the NIC's share of the work is what is being left out of the measurement.
class OffloadMemPort {
public:
    explicit OffloadMemPort(std::size_t buffers) : mem_(buffers) {}
    std::size_t rx_burst(std::span<worker::PacketRef> burst) noexcept
    {
        const std::size_t n = mem_.rx_burst(burst);
        for (std::size_t i = 0; i < n; ++i)
            burst[i].rx_checksums = {packet::ChecksumStatus::Good, packet::ChecksumStatus::Good};
        return n;
    }
    std::size_t tx_burst(std::span<worker::PacketRef> burst) noexcept
    {
        return mem_.tx_burst(burst);
    }
    std::size_t alloc(std::span<worker::PacketRef> burst) noexcept { return mem_.alloc(burst); }
    void free(std::span<worker::PacketRef> burst) noexcept { mem_.free(burst); }
    bool tx_checksum_offload() const noexcept { return true; }
    drivers::mem::MemPort& mem() noexcept { return mem_; }

private:
    drivers::mem::MemPort mem_;
};

/// BM_WorkerPoll with checksum offload in both directions: the difference is the software
/// checksum work a NIC takes off the core (RX verification of IPv4 and UDP, TX computation).
void BM_WorkerPollChecksumOffload(benchmark::State& state)
{
    const Corpus& c = corpus(1000);
    const RequestPool pool = make_requests(c, RequestKind::Hit);
    const auto frames = frames_of(pool, kFrames);

    const resolve::Policy policy;
    OffloadMemPort port(4 * worker::kBurstSize * worker::kMaxDatagramsPerAnswer);
    worker::Worker<OffloadMemPort> w(port, server_config(), policy);
    std::size_t next = 0;
    std::size_t packets = 0;
    for (auto _ : state) {
        packets += poll_burst(w, port.mem(), frames, next, *c.table);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    if (w.stats().tx.get() != w.stats().rx.get())
        state.SkipWithError("not every request was answered with one datagram");
}
BENCHMARK(BM_WorkerPollChecksumOffload);

/// write_udp_reply alone, on an IPv4 request whose reply carries `range(0)` payload octets:
/// the header rewrite, with (Software) or without (Offload) the checksum pass over the reply.
void BM_UdpReply(benchmark::State& state, packet::ChecksumMode mode)
{
    const auto payload_len = static_cast<std::size_t>(state.range(0));
    const std::vector<std::uint8_t> payload(payload_len, 0x5a);
    const std::vector<std::uint8_t> request = udp4_frame(payload);
    const packet::PacketView view = packet::classify(request, server_config());
    if (view.verdict != packet::Verdict::HandleRequest) {
        state.SkipWithError("the request does not classify");
        return;
    }
    std::vector<std::uint8_t> buffer(2048);
    std::memcpy(buffer.data(), request.data(), request.size());
    std::uint16_t id = 0;
    for (auto _ : state) {
        // The reply's L2-L4 headers are rewritten from `view` each time; the payload stays.
        const std::size_t len = packet::write_udp_reply(buffer, view, payload_len, id++, mode);
        benchmark::DoNotOptimize(len);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload_len));
}
BENCHMARK_CAPTURE(BM_UdpReply, software, packet::ChecksumMode::Software)
    ->Arg(64)->Arg(512)->Arg(1400);
BENCHMARK_CAPTURE(BM_UdpReply, offload, packet::ChecksumMode::Offload)
    ->Arg(64)->Arg(512)->Arg(1400);

} // namespace
} // namespace idpath::bench
