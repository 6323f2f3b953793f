// idpath-gun: the composition root of the load generator (docs/idpath-gun.md). Parses the
// command line, loads identifiers, opens the sockets, runs the workers and reports.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "dataplane/wire/constants.hpp"
#include "drivers/socket/address.hpp"
#include "perf/gun/clock.hpp"
#include "perf/gun/family.hpp"
#include "perf/gun/flow.hpp"
#include "perf/gun/gun_stats.hpp"
#include "perf/gun/identifiers.hpp"
#include "perf/gun/options.hpp"
#include "perf/gun/query_gen.hpp"
#include "perf/gun/random.hpp"
#include "perf/gun/report.hpp"
#include "perf/gun/tcp_port.hpp"
#include "perf/gun/udp_port.hpp"
#include "perf/gun/worker.hpp"
#if IDPATH_GUN_XDP
#include "perf/gun/xdp_setup.hpp"
#include "perf/gun/xsk_port.hpp"
#endif

namespace idpath::gun {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitNetwork = 3;
/// Open loop: the in-flight table holds this multiple of what the timeout implies.
constexpr double kInFlightHeadroom = 1.25;

// Set by SIGINT/SIGTERM; the reporting loop turns it into RunControl::stop.
std::atomic<bool> interrupted{false};

void on_signal(int)
{
    interrupted.store(true, std::memory_order_relaxed);
}

void install_signal_handlers()
{
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; // a second ^C ends the process at once
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int usage_error(std::string_view message)
{
    std::cerr << "idpath-gun: " << message << "\nTry 'idpath-gun --help'.\n";
    return kExitUsage;
}

/// The identifiers named on the command line, or the first error.
Result<bool, std::string> load_all(const Options& o, std::size_t max_length, IdentifierSet& ids)
{
    for (const auto& f : o.handle_files)
        if (auto r = load_identifier_file(f, IdentifierFormat::Lines, max_length, ids); !r.ok())
            return Err(r.error());
    for (const auto& f : o.jsonl_files)
        if (auto r = load_identifier_file(f, IdentifierFormat::JsonLines, max_length, ids); !r.ok())
            return Err(r.error());
    for (const auto& h : o.handles) {
        if (const char* problem = handle_problem(h, max_length))
            return Err("--handle '" + h + "': " + problem);
        ids.add(h);
    }
    if (ids.empty())
        return Err(std::string("no identifiers in the given files"));
    return true;
}

/// Everything a run needs besides its sockets.
struct Plan {
    Options options;
    socket::Endpoint server;
    std::optional<socket::Endpoint> server2; // the other family's: odd-numbered sockets use it
    IdentifierSet ids;
    QueryShape shape;
    GeneratorConfig generator;
    RunInfo info;
#if IDPATH_GUN_XDP
    std::unique_ptr<XdpSetup> xdp; // --xdp: the interface, the attached program, the addressing
#endif
};

template <class Port>
Result<Port, std::string> open_port(const Plan& plan, std::uint32_t index)
{
    const socket::Endpoint& server = plan.server2 && index % 2 ? *plan.server2 : plan.server;
#if IDPATH_GUN_XDP
    if constexpr (std::is_same_v<Port, XskPort>)
        return XskPort::open(plan.xdp->target, index, plan.xdp->program->xsks_map_fd());
    else
#endif
    if constexpr (Port::kStream)
        return Port::open(server, std::max<std::uint32_t>(plan.options.timeout_ms, 1000));
    else
        return Port::open(server);
}

/// Which family the queries of flow `index` go over, for the per-family counters: none with one
/// SERVER; with two, the socket's server's (sockets alternate), or each query's own (AF_XDP).
template <class Port>
FamilyMix family_of_flow(const Plan& plan, std::uint32_t index)
{
    if (!plan.server2)
        return FamilyMix::None;
#if IDPATH_GUN_XDP
    if constexpr (std::is_same_v<Port, XskPort>)
        return FamilyMix::ByRequestId;
#endif
    const socket::Endpoint& server = index % 2 ? *plan.server2 : plan.server;
    return server.family() == AF_INET6 ? FamilyMix::Ipv6 : FamilyMix::Ipv4;
}

template <class Port>
int run(const Plan& plan)
{
    const Options& o = plan.options;
    // Fewer queries than sockets: fewer sockets. Not under --xdp, where every queue needs its
    // reader (answers land on any queue); those beyond the count only receive.
    constexpr bool every_queue_reads =
#if IDPATH_GUN_XDP
        std::is_same_v<Port, XskPort>;
#else
        false;
#endif
    const std::uint32_t sockets = o.count && !every_queue_reads
                                      ? static_cast<std::uint32_t>(std::min<std::uint64_t>(o.sockets, o.count))
                                      : o.sockets;
    const std::uint32_t senders =
        o.count ? static_cast<std::uint32_t>(std::min<std::uint64_t>(sockets, o.count)) : sockets;
    const std::uint32_t threads = std::min(o.threads, sockets);
    const std::uint64_t timeout_ns = std::uint64_t{o.timeout_ms} * kNsPerMs;
    const double flow_rate = o.rate / senders;

    MatcherConfig mc;
    mc.timeout_ns = timeout_ns;
    mc.limit = o.open_loop() ? static_cast<std::uint32_t>(std::min<double>(
                                   std::ceil(flow_rate * o.timeout_ms / 1000.0 * kInFlightHeadroom) + 64,
                                   Matcher::kMaxSlots / 2))
                             : o.window;

    std::vector<std::unique_ptr<WorkerStats>> stats;
    for (std::uint32_t t = 0; t < threads; ++t)
        stats.push_back(std::make_unique<WorkerStats>());
    std::vector<std::vector<std::unique_ptr<Flow<Port>>>> flows(threads);
    std::uint64_t id_seed = o.seed;
    const std::uint64_t now = monotonic_ns();
    for (std::uint32_t i = 0; i < sockets; ++i) {
        auto port = open_port<Port>(plan, i);
        if (!port.ok()) {
            std::cerr << "idpath-gun: " << port.error() << '\n';
            return kExitNetwork;
        }
        FlowConfig fc;
        fc.count = o.count ? o.count / senders + (i < o.count % senders ? 1 : 0) : 0;
        fc.receive_only = i >= senders;
        fc.rate = flow_rate;
        mc.first_id = static_cast<std::uint32_t>(splitmix64(id_seed));
        mc.family = family_of_flow<Port>(plan, i);
        const std::uint32_t t = i % threads;
        flows[t].push_back(std::make_unique<Flow<Port>>(std::move(port).value(), plan.ids, plan.shape,
                                                        plan.generator, i, mc, fc, *stats[t], now));
    }

    RunInfo info = plan.info;
    info.sockets = sockets;
    info.threads = threads;
    Reporter reporter(std::cout, info, o.json);
    reporter.start();

    install_signal_handlers();
    RunControl control;
    const std::uint64_t start = monotonic_ns();
    control.send_until_ns = start + static_cast<std::uint64_t>(o.duration * static_cast<double>(kNsPerSecond));
    control.drain_ns = timeout_ns;
    control.busy.store(threads, std::memory_order_relaxed);
    std::vector<std::unique_ptr<WorkerResult>> results;
    std::vector<std::thread> workers;
    for (std::uint32_t t = 0; t < threads; ++t) {
        results.push_back(std::make_unique<WorkerResult>());
        workers.emplace_back([&flows, &control, &results, t] {
            run_worker<Port>(flows[t], control, *results[t]);
        });
    }

    const auto snapshot = [&stats] {
        auto s = std::make_unique<Snapshot>();
        for (const auto& w : stats)
            s->add(*w);
        return s;
    };
    const auto all_done = [&results] {
        for (const auto& r : results)
            if (!r->done.load(std::memory_order_acquire))
                return false;
        return true;
    };
    const std::uint64_t interval_ns = static_cast<std::uint64_t>(o.interval * static_cast<double>(kNsPerSecond));
    std::uint64_t next_tick = start + interval_ns;
    std::uint64_t last_tick = start;
    auto previous = std::make_unique<Snapshot>();
    while (!all_done()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (interrupted.load(std::memory_order_relaxed))
            control.stop.store(true, std::memory_order_relaxed);
        const std::uint64_t t = monotonic_ns();
        if (interval_ns && t >= next_tick) {
            auto current = snapshot();
            reporter.interval(static_cast<double>(t - start) / 1e9, static_cast<double>(t - last_tick) / 1e9,
                              current->since(*previous));
            previous = std::move(current);
            last_tick = t;
            next_tick += interval_ns * ((t - next_tick) / interval_ns + 1);
        }
    }
    for (auto& w : workers)
        w.join();
    const std::uint64_t end = monotonic_ns();

    std::uint64_t send_end = start;
    std::string error;
    for (const auto& r : results) {
        send_end = std::max(send_end, r->send_end_ns);
        if (error.empty())
            error = r->error;
    }
    const auto total = snapshot();
    reporter.summary(static_cast<double>(send_end - start) / 1e9, static_cast<double>(end - start) / 1e9, *total);
    if (!error.empty()) {
        std::cerr << "idpath-gun: " << error << '\n';
        return kExitNetwork;
    }
    if ((*total)[Stat::Sent] == 0) {
        std::cerr << "idpath-gun: nothing could be sent to " << info.server << '\n';
        return kExitNetwork;
    }
    if ((*total)[Stat::Answered] == 0 && (*total)[Stat::Rejected] == 0) {
        std::cerr << "idpath-gun: no answer from " << info.server
                  << ((*total)[Stat::Unreachable] ? " (port unreachable)" : "") << '\n';
        return kExitNetwork;
    }
    return kExitOk;
}

int gun_main(int argc, char** argv)
{
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    auto parsed = parse_options(args);
    if (!parsed.ok())
        return usage_error(parsed.error());
    auto plan = std::make_unique<Plan>();
    plan->options = std::move(parsed).value();
    const Options& o = plan->options;
    if (o.help) {
        std::cout << usage_text();
        return kExitOk;
    }
    if (o.version) {
        std::cout << "idpath-gun " << IDPATH_VERSION << '\n';
        return kExitOk;
    }
    const auto server = socket::parse_endpoint(o.server, wire::kDefaultPort);
    if (!server)
        return usage_error("SERVER: not an address: '" + o.server + "' (IPv4, [IPv6]:port or IPv6; no names)");
    plan->server = *server;
    if (!o.server2.empty()) {
        const auto second = socket::parse_endpoint(o.server2, wire::kDefaultPort);
        if (!second)
            return usage_error("SERVER6: not an address: '" + o.server2 + "' (IPv4, [IPv6]:port or IPv6; no names)");
        if (second->family() == server->family()) // parse_options() refuses this already
            return usage_error("two SERVERs of one family: give one IPv4 and one IPv6 address");
        if (!o.xdp() && o.sockets < 2)
            return usage_error("--sockets: at least 2 with two SERVERs (they alternate between them)");
        plan->server2 = *second;
    }

    plan->shape.indexes = o.indexes;
    plan->shape.types = o.types;
    if (o.rd)
        plan->shape.op_flags |= wire::opflag::kReturnDigest;
    const std::size_t max_length = plan->shape.max_handle_length();
    if (auto loaded = load_all(o, max_length, plan->ids); !loaded.ok())
        return usage_error(loaded.error());
    if (o.miss_ratio > 0 && plan->ids.prefixes().empty())
        return usage_error("--miss-ratio: no prefix to generate misses under (only 0.NA/ handles)");
    if (o.miss_ratio > 0 && plan->ids.longest_prefix() + kMissSuffixLength > max_length)
        return usage_error("--miss-ratio: a prefix is too long for generated names to fit one datagram");
    plan->generator = {o.miss_ratio, o.zipf, o.seed};

    RunInfo& info = plan->info;
    info.server = plan->server.to_string() + (plan->server2 ? " + " + plan->server2->to_string() : "");
    info.mixed = plan->server2.has_value();
    info.transport = o.tcp ? "tcp" : "udp";
    info.open_loop = o.open_loop();
    info.rate = o.rate;
    info.window = o.window;
    info.identifiers = plan->ids.size();
    info.miss_ratio = o.miss_ratio;
    info.zipf = o.zipf;
    info.count = o.count;
    info.duration = o.duration;
    info.timeout_ms = o.timeout_ms;
    info.seed = o.seed;
    if (o.xdp()) {
#if IDPATH_GUN_XDP
        auto setup = prepare_xdp(o, plan->server, plan->server2);
        if (!setup.ok()) {
            std::cerr << "idpath-gun: " << setup.error().message << '\n';
            return setup.error().status;
        }
        plan->xdp = std::move(setup).value();
        std::cerr << "idpath-gun: " << plan->xdp->summary << '\n';
        if (!plan->xdp->warning.empty())
            std::cerr << "idpath-gun: warning: " << plan->xdp->warning << '\n';
        // One flow, one thread, one AF_XDP socket per queue.
        plan->options.sockets = plan->options.threads = plan->xdp->queues;
        info.transport = "udp/af_xdp";
        return run<XskPort>(*plan);
#else
        return usage_error("--xdp: this idpath-gun was built without AF_XDP (needs clang, libbpf-dev, libxdp-dev)");
#endif
    }
    return o.tcp ? run<TcpPort>(*plan) : run<UdpPort>(*plan);
}

} // namespace
} // namespace idpath::gun

int main(int argc, char** argv)
{
    return idpath::gun::gun_main(argc, argv);
}
