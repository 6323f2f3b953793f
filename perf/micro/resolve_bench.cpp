// Google Benchmark of the resolve path (docs/PERFORMANCE.md): items/s is answers (or lookups,
// or decodes) per second on one core. Each benchmark runs over a table of 1 k and of 1 M
// identifiers, cycling through a pool of 64 Ki pre-encoded requests chosen at random.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/resolver.hpp"
#include "dataplane/resolve/responder.hpp"
#include "dataplane/resolve/stats.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/resolution.hpp"
#include "perf/micro/corpus.hpp"

namespace idpath::bench {
namespace {

constexpr std::uint32_t kSuccess = static_cast<std::uint32_t>(wire::ResponseCode::Success);
constexpr std::uint32_t kNotFound = static_cast<std::uint32_t>(wire::ResponseCode::HandleNotFound);

/// The response code the first request of a pool must get, or 0 for "either" (a mixed pool).
std::uint32_t expected_rc(RequestKind kind)
{
    switch (kind) {
    case RequestKind::Miss: return kNotFound;
    case RequestKind::Mixed: return 0;
    default: return kSuccess;
    }
}

void add_corpus_counters(benchmark::State& state, const Corpus& c)
{
    state.counters["identifiers"] = static_cast<double>(c.size);
    // Encoded value octets per identifier: what a compact table must hold at least.
    state.counters["value_B"] = static_cast<double>(c.table->value_bytes()) / static_cast<double>(c.size);
}

/// resolve(): envelope already split off, message in, reply out. The core of every transport.
void BM_Resolve(benchmark::State& state, RequestKind kind)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const RequestPool pool = make_requests(c, kind);
    const resolve::Policy policy;
    const resolve::RequestContext ctx{policy.max_udp_datagrams * wire::kMaxUdpChunk, kNow, true};
    std::vector<std::uint8_t> out(resolve::kReplyBufferSize);

    const auto first = resolve::resolve(pool.envelopes[0], pool.messages[0], *c.table, policy, ctx, out);
    if (!first.answered() || (expected_rc(kind) && first.response_code != expected_rc(kind))) {
        state.SkipWithError("the first request did not get the expected answer");
        return;
    }
    std::size_t k = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        const auto o = resolve::resolve(pool.envelopes[k], pool.messages[k], *c.table, policy, ctx, out);
        bytes += o.size;
        k = (k + 1) & (kPoolSize - 1);
    }
    benchmark::DoNotOptimize(bytes);
    state.SetItemsProcessed(state.iterations());
    state.counters["reply_bytes"] = benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kAvgIterations);
    add_corpus_counters(state, c);
}

/// Responder::on_udp(): a whole UDP payload in (envelope decode, size policy, stats), one reply out.
void BM_ResponderUdp(benchmark::State& state, RequestKind kind)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const RequestPool pool = make_requests(c, kind);
    const resolve::Policy policy;
    resolve::ResolveStats stats;
    resolve::Responder responder(policy, stats);
    const wire::SourceKey src{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}, 40000};

    if (responder.on_udp(*c.table, src, pool.datagrams[0], kNow, 0).datagrams != 1) {
        state.SkipWithError("the first request did not get a one-datagram answer");
        return;
    }
    std::size_t k = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        const auto reply = responder.on_udp(*c.table, src, pool.datagrams[k], kNow, 0);
        bytes += reply.bytes.size();
        k = (k + 1) & (kPoolSize - 1);
    }
    benchmark::DoNotOptimize(bytes);
    state.SetItemsProcessed(state.iterations());
    state.counters["reply_bytes"] = benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kAvgIterations);
    add_corpus_counters(state, c);
}

/// decode_resolution_request() alone, on request bodies.
void BM_DecodeRequest(benchmark::State& state, RequestKind kind)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const RequestPool pool = make_requests(c, kind);
    std::size_t k = 0;
    std::uint64_t handle_bytes = 0;
    for (auto _ : state) {
        const auto r = wire::decode_resolution_request(pool.bodies[k]);
        handle_bytes += r.ok() ? r->handle.size() : 0;
        k = (k + 1) & (kPoolSize - 1);
    }
    benchmark::DoNotOptimize(handle_bytes);
    state.SetItemsProcessed(state.iterations());
}

/// Table::find() alone, on normalised keys (hits or misses).
void BM_TableFind(benchmark::State& state, RequestKind kind)
{
    const Corpus& c = corpus(static_cast<std::size_t>(state.range(0)));
    const RequestPool pool = make_requests(c, kind);
    std::vector<std::string_view> keys(pool.keys.begin(), pool.keys.end());
    std::size_t k = 0;
    std::uint64_t found = 0;
    for (auto _ : state) {
        found += c.table->find(keys[k]).has_value();
        k = (k + 1) & (kPoolSize - 1);
    }
    benchmark::DoNotOptimize(found);
    if (kind == RequestKind::Hit && found != static_cast<std::uint64_t>(state.iterations()))
        state.SkipWithError("a hit key was not found");
    state.SetItemsProcessed(state.iterations());
    add_corpus_counters(state, c);
}

void sizes(benchmark::internal::Benchmark* b)
{
    b->Arg(1000)->Arg(1000000);
}

BENCHMARK_CAPTURE(BM_Resolve, hit, RequestKind::Hit)->Apply(sizes);
BENCHMARK_CAPTURE(BM_Resolve, miss, RequestKind::Miss)->Apply(sizes);
BENCHMARK_CAPTURE(BM_Resolve, mixed_90_10, RequestKind::Mixed)->Apply(sizes);
BENCHMARK_CAPTURE(BM_Resolve, index_filter, RequestKind::IndexFilter)->Apply(sizes);
BENCHMARK_CAPTURE(BM_Resolve, type_filter, RequestKind::TypeFilter)->Apply(sizes);
BENCHMARK_CAPTURE(BM_Resolve, rd_sha256, RequestKind::Digest)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ResponderUdp, hit, RequestKind::Hit)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ResponderUdp, mixed_90_10, RequestKind::Mixed)->Apply(sizes);
BENCHMARK_CAPTURE(BM_DecodeRequest, plain, RequestKind::Hit)->Arg(1000);
BENCHMARK_CAPTURE(BM_DecodeRequest, filtered, RequestKind::TypeFilter)->Arg(1000);
BENCHMARK_CAPTURE(BM_TableFind, hit, RequestKind::Hit)->Apply(sizes);
BENCHMARK_CAPTURE(BM_TableFind, miss, RequestKind::Miss)->Apply(sizes);

} // namespace
} // namespace idpath::bench

BENCHMARK_MAIN();
