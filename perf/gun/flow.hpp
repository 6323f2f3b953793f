#pragma once
/// One socket's share of the load: its port, query stream, matcher and (open loop) pacer.
/// step() receives and checks what has arrived, expires old queries, and sends what the mode
/// allows: closed loop keeps `limit` queries in flight; open loop sends at the pacer's rate.
///
/// Templated on the port (UdpPort, TcpPort, XskPort; later DPDK), which must offer kBurst,
/// kStream, fd(), wants_write(), send(), receive() and flush(), and may offer bind_stats().
/// Thread-safety: one thread. Not movable: the matcher refers to the generator.

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"
#include "perf/gun/clock.hpp"
#include "perf/gun/gun_stats.hpp"
#include "perf/gun/io_result.hpp"
#include "perf/gun/matcher.hpp"
#include "perf/gun/pacer.hpp"
#include "perf/gun/query_gen.hpp"

namespace idpath::gun {

struct FlowConfig {
    std::uint64_t count = 0; // queries this socket sends; 0: until the run ends
    /// Sends nothing, only takes answers: an AF_XDP queue that --count leaves without queries
    /// still receives the answers the interface spreads onto it.
    bool receive_only = false;
    double rate = 0;         // open loop: queries per second; 0: closed loop
    std::uint32_t burst = 32;
    std::uint32_t max_reconnects = 3; // a stream port that loses its connection more often fails
};

template <class Port>
class Flow {
public:
    Flow(Port port, const IdentifierSet& ids, const QueryShape& shape, const GeneratorConfig& gen,
         std::uint64_t stream, const MatcherConfig& matcher, const FlowConfig& config, WorkerStats& stats,
         std::uint64_t now_ns)
        : port_(std::move(port)),
          generator_(ids, shape, gen, stream),
          matcher_(matcher, generator_, stats),
          config_(config),
          stats_(stats)
    {
        // A port that filters frames before the matcher (the AF_XDP port) counts what it drops.
        if constexpr (requires { port_.bind_stats(stats); })
            port_.bind_stats(stats);
        if (config.rate > 0)
            pacer_.emplace(config.rate, std::clamp<std::uint32_t>(config.burst, 1, kBurst), now_ns);
    }
    Flow(const Flow&) = delete;
    Flow& operator=(const Flow&) = delete;

    /// One pass. Returns true when anything was sent or received.
    bool step(bool sending) noexcept
    {
        if (!failure_.empty())
            return false;
        bool moved = receive();
        matcher_.expire(monotonic_ns());
        // Output a stream port could not write last time goes first, window full or not.
        if (port_.wants_write())
            note(port_.flush());
        if (sending && !exhausted())
            moved |= send();
        return moved;
    }

    /// True once `count` queries have gone (never without a count), or from the start for a
    /// receive-only flow.
    bool exhausted() const noexcept { return config_.receive_only || (config_.count && sent_ >= config_.count); }
    /// True once the port has failed for good; failure() says why.
    bool failed() const noexcept { return !failure_.empty(); }
    const std::string& failure() const noexcept { return failure_; }
    /// Queries in flight; for a port whose queues hand answers to each other (AF_XDP), at least
    /// 1 while another queue still waits, so this worker keeps reading its RX ring.
    std::uint32_t outstanding() noexcept
    {
        if constexpr (requires { port_.linger(0u); })
            return port_.linger(matcher_.outstanding());
        else
            return matcher_.outstanding();
    }
    /// Nanoseconds until the pacer releases a query; "never" in closed loop.
    std::uint64_t wait_ns(std::uint64_t now_ns) noexcept
    {
        return pacer_ ? pacer_->wait_ns(now_ns) : std::numeric_limits<std::uint64_t>::max();
    }
    /// Counts every query in flight as lost.
    void give_up() noexcept { matcher_.expire_all(); }

    int fd() const noexcept { return port_.fd(); }
    bool wants_write() const noexcept { return port_.wants_write(); }

private:
    static constexpr std::size_t kBurst = Port::kBurst;

    bool receive() noexcept
    {
        std::array<ByteSpan, kBurst> rx;
        bool moved = false;
        // A few bursts at most, so a flood of answers cannot starve sending.
        for (int round = 0; round < 4; ++round) {
            const IoResult r = port_.receive(rx);
            const std::uint64_t now = monotonic_ns();
            for (std::size_t i = 0; i < r.count; ++i)
                matcher_.on_datagram(rx[i], now);
            moved |= r.count > 0;
            if (!note(r) || r.count < kBurst)
                break;
        }
        return moved;
    }

    bool send() noexcept
    {
        const std::uint32_t room = matcher_.limit() - matcher_.outstanding();
        std::uint64_t want = kBurst;
        if (config_.count)
            want = std::min<std::uint64_t>(want, config_.count - sent_);
        std::uint32_t n = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, room));
        const std::uint64_t now = monotonic_ns();
        if (pacer_) {
            const std::uint32_t due = pacer_->take(now, static_cast<std::uint32_t>(want));
            if (due > n)
                stats_.add(Stat::Stalled, due - n); // due, but too many in flight: not sent
            stats_.add(Stat::Stalled, pacer_->take_overflow());
            n = std::min(n, due);
        }
        if (n == 0)
            return false;

        const std::uint32_t now_unix = unix_seconds();
        std::array<ByteSpan, kBurst> tx;
        std::array<std::uint32_t, kBurst> ids;
        std::size_t ready = 0;
        for (std::uint32_t i = 0; i < n; ++i) {
            const QuerySpec q = generator_.next();
            ids[ready] = matcher_.issue(q, now);
            const std::size_t size = generator_.encode(q, ids[ready], now_unix, tx_buffers_[ready]);
            if (size == 0) { // cannot happen: main() checked every handle's length
                matcher_.cancel(ids[ready]);
                continue;
            }
            tx[ready] = ByteSpan{tx_buffers_[ready].data(), size};
            ++ready;
        }
        const IoResult r = port_.send({tx.data(), ready});
        for (std::size_t i = r.count; i < ready; ++i)
            matcher_.cancel(ids[i]);
        sent_ += r.count;
        std::uint64_t bytes = 0;
        for (std::size_t i = 0; i < r.count; ++i)
            bytes += tx[i].size();
        stats_.add(Stat::Sent, r.count);
        if (matcher_.counts_families()) // an IPv4/IPv6 mix: which family each query went over
            for (std::size_t i = 0; i < r.count; ++i)
                stats_.add_family(matcher_.is_ipv6(ids[i]), FamilyStat::Sent);
        stats_.add(Stat::DatagramsOut, r.count);
        stats_.add(Stat::BytesOut, bytes);
        note(r);
        return r.count > 0;
    }

    /// Accounts for a port error; returns false when there was one.
    bool note(const IoResult& r) noexcept
    {
        if (r.error == 0)
            return true;
        if (r.error == ECONNREFUSED)
            stats_.add(Stat::Unreachable);
        else if constexpr (!Port::kStream)
            stats_.add(Stat::SendErrors);
        if constexpr (Port::kStream)
            reconnect(r.error);
        return false;
    }

    void reconnect(int error) noexcept
    {
        matcher_.expire_all(); // the answers went with the connection
        std::string why = errno_text(error);
        if (reconnects_ < config_.max_reconnects) {
            ++reconnects_;
            stats_.add(Stat::Reconnects);
            if (port_.reconnect(why))
                return;
        }
        failure_ = "connection lost: " + why;
    }

    Port port_;
    QueryGenerator generator_;
    Matcher matcher_;
    FlowConfig config_;
    WorkerStats& stats_;
    std::optional<TokenBucket> pacer_;
    std::array<std::array<std::uint8_t, wire::kMaxUdpDatagram>, kBurst> tx_buffers_;
    std::uint64_t sent_ = 0;
    std::uint32_t reconnects_ = 0;
    std::string failure_;
};

} // namespace idpath::gun
