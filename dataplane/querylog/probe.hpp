#pragma once
/// Probe mode (docs/log-mirror.md "Probe mode"): one serving thread's copies of raw request and
/// response packets, for platforms that take probes rather than logs. Requests are sampled one
/// in `sample` (1: all) by a countdown, no random numbers; a sampled request's responses are
/// always captured with it, so a probe shows whole exchanges. Packets are copied, cut at
/// `snap_bytes`, into fixed-size slots of the thread's own SPSC ring; a full ring loses the
/// packet, counted, and never blocks. The control plane's ProbeWriter (controlplane/mirror/probe)
/// drains the rings into pcapng files.
///
/// Use per burst: for each request, `if (probe.sample())` capture the request (before an
/// in-place reply overwrites it) and then each response datagram; after the burst's replies are
/// handed to the transport, `probe.end_burst(now_ns)` stamps the responses with that time and
/// publishes everything with one store. A Probe without a ring (off) costs one branch per
/// request.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/counter.hpp"
#include "dataplane/querylog/spsc_ring.hpp"

namespace idpath::querylog {

/// What a captured packet is: values are pcapng's epb_flags direction bits (inbound 1,
/// outbound 2), so the writer copies them as they are.
enum class ProbeDirection : std::uint8_t { Request = 1, Response = 2 };

/// How a captured packet starts: an Ethernet frame (the DPDK run loop sees those) or an IP
/// packet (kernel sockets see no frame; the transport synthesizes IP and UDP headers).
enum class ProbeLink : std::uint8_t { Ethernet = 0, RawIp = 1 };

/// Octets a slot holds: a full 1500-octet-MTU Ethernet frame with room to spare, and the cap of
/// mirror.probe.snap_bytes. The slot is 2 KiB.
inline constexpr std::size_t kProbeSnapMax = 2032;

struct ProbeSlot {
    std::uint64_t time_ns;        // CLOCK_REALTIME: the burst's arrival (request), its send (response)
    std::uint16_t length;         // octets captured in data
    std::uint16_t orig_length;    // octets the packet had (more than length when cut)
    std::uint16_t source;         // the serving thread (as the query log's Record::source)
    ProbeDirection direction;
    ProbeLink link;
    std::array<std::uint8_t, kProbeSnapMax> data;
};
static_assert(sizeof(ProbeSlot) == 2048);

using ProbeRing = SpscRing<ProbeSlot>;

struct alignas(kCacheLine) ProbeStats {
    Counter captured;    // packets written to the ring
    Counter sampled_out; // requests not sampled (sample > 1)
    Counter lost;        // packets lost: the ring was full
};

/// Where one serving thread writes its probe packets (transports' options; the mirror's
/// ProbeWriter owns the rings, which must outlive the transport).
struct ProbeTarget {
    ProbeRing* ring = nullptr; // null: this thread captures nothing
    std::uint16_t source = 0;
    std::uint32_t sample = 1;  // one request in `sample`
    std::uint16_t snap_bytes = kProbeSnapMax;
};

class Probe {
public:
    Probe() = default;
    explicit Probe(const ProbeTarget& t)
        : ring_(t.ring), source_(t.source), sample_(t.sample == 0 ? 1 : t.sample),
          snap_(static_cast<std::uint16_t>(std::min<std::size_t>(t.snap_bytes == 0 ? kProbeSnapMax : t.snap_bytes, kProbeSnapMax)))
    {
    }

    bool enabled() const noexcept { return ring_ != nullptr; }

    /// Whether this request (and its responses) is captured: the first of every `sample`.
    /// Counts the others as sampled_out. False when off.
    bool sample() noexcept
    {
        if (ring_ == nullptr)
            return false;
        if (skip_ > 0) {
            --skip_;
            stats_.sampled_out.add();
            return false;
        }
        skip_ = sample_ - 1;
        return true;
    }

    /// A slot for one packet of `orig_length` octets, its header set (length = the captured
    /// part, min(orig_length, snap)), for the caller to write `length` octets into; null when
    /// the ring is full (counted as lost). Unpublished until end_burst().
    ProbeSlot* begin(std::uint64_t time_ns, ProbeDirection d, ProbeLink link,
                     std::size_t orig_length) noexcept
    {
        ProbeSlot* s = ring_->claim();
        if (s == nullptr) {
            stats_.lost.add();
            return nullptr;
        }
        stats_.captured.add();
        s->time_ns = time_ns;
        s->orig_length = static_cast<std::uint16_t>(std::min<std::size_t>(orig_length, 0xffff));
        s->length = static_cast<std::uint16_t>(std::min<std::size_t>(orig_length, snap_));
        s->source = source_;
        s->direction = d;
        s->link = link;
        return s;
    }

    /// Copies one whole packet (an Ethernet frame or an IP packet), cut at the snap length.
    void capture(std::uint64_t time_ns, ProbeDirection d, ProbeLink link, ByteSpan packet) noexcept
    {
        if (ProbeSlot* s = begin(time_ns, d, link, packet.size()))
            std::memcpy(s->data.data(), packet.data(), s->length);
    }

    /// Stamps the responses captured since the last call with `now_ns` (they left when the
    /// burst was transmitted) and publishes every packet captured since then.
    void end_burst(std::uint64_t now_ns) noexcept
    {
        if (ring_ == nullptr)
            return;
        const std::size_t n = ring_->unpublished();
        if (n == 0)
            return;
        for (std::size_t i = 0; i < n; ++i) {
            ProbeSlot& s = ring_->unpublished_at(i);
            if (s.direction == ProbeDirection::Response)
                s.time_ns = now_ns;
        }
        ring_->publish();
    }

    const ProbeStats& stats() const noexcept { return stats_; }
    std::uint16_t snap() const noexcept { return snap_; }

private:
    ProbeRing* ring_ = nullptr;
    std::uint16_t source_ = 0;
    std::uint32_t sample_ = 1;
    std::uint16_t snap_ = kProbeSnapMax;
    std::uint32_t skip_ = 0; // requests still to pass over before the next sampled one
    ProbeStats stats_;
};

/// Endpoints of a UDP datagram a kernel socket carried, for synthesized headers: addresses as
/// the query log keeps them (IPv4 as ::ffff:a.b.c.d).
struct ProbeUdpPeers {
    std::array<std::uint8_t, 16> src{};
    std::array<std::uint8_t, 16> dst{};
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    bool ipv4 = false;
};

/// Captures a UDP datagram a kernel socket received or sent as a raw IP packet: an IPv4 (or
/// IPv6) header and a UDP header, both with correct checksums, around `head` + `tail` (the
/// payload in up to two parts, as the transports hold multi-datagram answers).
void capture_udp(Probe& probe, std::uint64_t time_ns, ProbeDirection d, const ProbeUdpPeers& peers,
                 ByteSpan head, ByteSpan tail = {}) noexcept;

} // namespace idpath::querylog
