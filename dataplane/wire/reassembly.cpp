#include "dataplane/wire/reassembly.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "dataplane/wire/fragment.hpp"

namespace idpath::wire {

struct Reassembler::Entry {
    SourceKey source;
    std::uint32_t request_id = 0;
    std::uint32_t message_length = 0;
    std::uint32_t count = 0;    // datagrams expected
    std::uint32_t received = 0; // distinct datagrams received
    std::uint64_t started_ms = 0;
    Envelope first; // envelope of datagram 0, once it arrived
    std::vector<std::uint8_t> seen; // one flag per datagram
    std::vector<std::uint8_t> buffer;
};

namespace {

// Octets datagram k of an L-octet message carries (handle-protocol.md 1.12).
std::size_t chunk_size(std::uint32_t message_length, std::uint32_t k, std::uint32_t count) noexcept
{
    return k + 1 == count ? message_length - std::size_t{k} * kMaxUdpChunk : kMaxUdpChunk;
}

bool expired_at(std::uint64_t started_ms, std::uint64_t now_ms, std::uint64_t timeout_ms) noexcept
{
    return now_ms > started_ms && now_ms - started_ms > timeout_ms;
}

} // namespace

Reassembler::Reassembler(ReassemblyLimits limits) : limits_(limits) {}

Reassembler::~Reassembler() = default;

std::size_t Reassembler::pending() const noexcept
{
    return entries_.size();
}

std::size_t Reassembler::pending_bytes() const noexcept
{
    return bytes_;
}

void Reassembler::expire(std::uint64_t now_ms)
{
    for (std::size_t i = 0; i < entries_.size();) {
        if (expired_at(entries_[i]->started_ms, now_ms, limits_.timeout_ms)) {
            bytes_ -= entries_[i]->message_length;
            entries_[i] = std::move(entries_.back());
            entries_.pop_back();
            stats_.expired.add();
        } else {
            ++i;
        }
    }
}

Reassembler::Outcome Reassembler::add(const SourceKey& src, const Envelope& env, ByteSpan payload,
                                      std::uint64_t now_ms)
{
    done_.clear();
    Outcome out;
    out.status = Status::Refused;

    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) {
        return e->request_id == env.request_id && e->source == src;
    });
    if (it != entries_.end() && expired_at((*it)->started_ms, now_ms, limits_.timeout_ms)) {
        // Too late to finish: this datagram starts over, as a retransmitted request would.
        bytes_ -= (*it)->message_length;
        *it = std::move(entries_.back());
        entries_.pop_back();
        stats_.expired.add();
        it = entries_.end();
    }

    const std::uint32_t length = env.message_length;
    const std::uint32_t count = datagram_count(length);
    if (it == entries_.end()) {
        if (length > limits_.max_message_length) {
            stats_.refused_too_large.add();
            return out;
        }
        if (env.sequence == 0 && payload.size() == length) {
            // Nothing to wait for: the whole message came in one datagram (as decode_frame
            // lets through), with TC set or a MessageLength above one chunk.
            stats_.started.add();
            stats_.completed.add();
            done_.assign(payload.begin(), payload.end());
            return {Status::Complete, ByteSpan(done_), env};
        }
        if (env.sequence >= count || payload.size() != chunk_size(length, env.sequence, count)) {
            stats_.inconsistent.add();
            return out;
        }
        auto by_source = [&](const auto& e) { return e->source.address == src.address; };
        auto full = [&] {
            return entries_.size() >= limits_.max_entries ||
                   limits_.max_bytes - std::min(limits_.max_bytes, bytes_) < length ||
                   static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(),
                                                          by_source)) >=
                       limits_.max_entries_per_source;
        };
        if (full()) {
            expire(now_ms);
            if (full()) {
                stats_.refused_full.add();
                return out;
            }
        }
        stats_.started.add();
        auto e = std::make_unique<Entry>();
        e->source = src;
        e->request_id = env.request_id;
        e->message_length = length;
        e->count = count;
        e->started_ms = now_ms;
        e->seen.assign(count, 0);
        e->buffer.assign(length, 0);
        bytes_ += length;
        entries_.push_back(std::move(e));
        it = entries_.end() - 1;
    }

    Entry& e = **it;
    if (length != e.message_length || env.sequence >= e.count ||
        payload.size() != chunk_size(e.message_length, env.sequence, e.count)) {
        stats_.inconsistent.add();
        return out;
    }
    std::uint8_t* slot = e.buffer.data() + std::size_t{env.sequence} * kMaxUdpChunk;
    if (e.seen[env.sequence]) {
        // An identical copy is a harmless duplicate; different octets are a conflict, and the
        // first copy is kept.
        if (std::memcmp(slot, payload.data(), payload.size()) != 0) {
            stats_.inconsistent.add();
            return out;
        }
        stats_.duplicates.add();
        out.status = Status::Incomplete;
        return out;
    }
    std::memcpy(slot, payload.data(), payload.size());
    e.seen[env.sequence] = 1;
    ++e.received;
    if (env.sequence == 0)
        e.first = env;
    if (e.received < e.count) {
        out.status = Status::Incomplete;
        return out;
    }

    done_ = std::move(e.buffer);
    out = {Status::Complete, ByteSpan(done_), e.first};
    bytes_ -= e.message_length;
    *it = std::move(entries_.back());
    entries_.pop_back();
    stats_.completed.add();
    return out;
}

} // namespace idpath::wire
