#include "perf/gun/matcher.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "dataplane/wire/fragment.hpp"
#include "dataplane/wire/message.hpp"
#include "perf/gun/answer_check.hpp"

namespace idpath::gun {
namespace {

constexpr std::size_t kBufferSize = Matcher::kMaxDatagrams * wire::kMaxUdpChunk;
/// Offset of ResponseCode in a message (handle-protocol.md 1.4).
constexpr std::size_t kResponseCodeOffset = 4;

std::uint32_t table_size(std::uint32_t limit) noexcept
{
    return std::clamp<std::uint32_t>(std::bit_ceil(2 * std::max<std::uint32_t>(limit, 1)), 64, Matcher::kMaxSlots);
}

} // namespace

Matcher::Matcher(const MatcherConfig& config, const QueryGenerator& generator, WorkerStats& stats)
    : generator_(generator),
      stats_(stats),
      slots_(table_size(config.limit)),
      mask_(static_cast<std::uint32_t>(slots_.size() - 1)),
      limit_(std::clamp<std::uint32_t>(config.limit, 1, static_cast<std::uint32_t>(slots_.size() / 2))),
      timeout_ns_(config.timeout_ns),
      family_(config.family),
      next_id_(config.first_id),
      oldest_(config.first_id)
{
}

std::uint32_t Matcher::issue(const QuerySpec& q, std::uint64_t now_ns) noexcept
{
    // At most half the slots are in flight, so this skips a few ids at worst.
    while (slot_of(next_id_).state == State::InFlight) {
        ++next_id_;
        ++issued_;
    }
    Slot& s = slot_of(next_id_);
    s = Slot{};
    s.sent_ns = now_ns;
    s.query = q;
    s.id = next_id_;
    s.state = State::InFlight;
    ++outstanding_;
    ++issued_;
    return next_id_++;
}

void Matcher::cancel(std::uint32_t request_id) noexcept
{
    Slot& s = slot_of(request_id);
    if (s.id == request_id && s.state == State::InFlight) {
        s.state = State::Free;
        --outstanding_;
    }
}

bool Matcher::was_issued(std::uint32_t id) const noexcept
{
    const std::uint32_t age = next_id_ - id; // wraps like the ids themselves
    return age != 0 && age <= issued_;
}

void Matcher::on_datagram(ByteSpan datagram, std::uint64_t now_ns) noexcept
{
    stats_.add(Stat::DatagramsIn);
    stats_.add(Stat::BytesIn, datagram.size());
    const auto frame = wire::decode_frame(datagram);
    if (!frame.ok()) {
        stats_.add(Stat::Malformed);
        return;
    }
    const wire::Envelope& env = frame->envelope;
    Slot& s = slot_of(env.request_id);
    if (s.id != env.request_id || s.state == State::Free) {
        // Not in the table: an old query whose slot was reused, or never ours.
        stats_.add(was_issued(env.request_id) && s.state != State::Free ? Stat::Late : Stat::Wrong);
        return;
    }
    if (s.state == State::Done) {
        stats_.add(Stat::Duplicate);
        return;
    }
    if (s.state == State::Expired) {
        stats_.add(Stat::Late);
        return;
    }
    if (env.sequence == 0 && frame->payload.size() == env.message_length) {
        complete(s, frame->payload, now_ns); // one datagram, or a TCP frame
        return;
    }
    on_chunk(s, env.sequence, env.message_length, frame->payload, now_ns);
}

void Matcher::on_chunk(Slot& s, std::uint32_t sequence, std::uint32_t message_length, ByteSpan payload,
                       std::uint64_t now_ns) noexcept
{
    // decode_frame() has checked that the payload is the chunk `sequence` implies.
    if (wire::datagram_count(message_length) > kMaxDatagrams) {
        stats_.add(Stat::Malformed);
        outcome(s, Stat::Rejected, FamilyStat::Rejected);
        finish(s, State::Done);
        return;
    }
    if (s.chunks == 0) {
        s.message_length = message_length;
        s.buffer = take_buffer();
    } else if (message_length != s.message_length) {
        stats_.add(Stat::Malformed); // the datagrams of one answer disagree on its length
        return;
    }
    const std::uint64_t bit = std::uint64_t{1} << sequence;
    if (s.chunks & bit) {
        stats_.add(Stat::Duplicate);
        return;
    }
    s.chunks |= bit;
    if (sequence == 0 && payload.size() >= kResponseCodeOffset + 4)
        s.response_code = load_be32(payload.data() + kResponseCodeOffset);
    if (s.buffer != kNoBuffer)
        std::memcpy(buffer(s.buffer) + std::size_t{sequence} * wire::kMaxUdpChunk, payload.data(), payload.size());

    const std::uint32_t count = wire::datagram_count(message_length);
    if (static_cast<std::uint32_t>(std::popcount(s.chunks)) != count)
        return;
    stats_.add(Stat::MultiDatagram);
    if (s.buffer != kNoBuffer) {
        complete(s, {buffer(s.buffer), message_length}, now_ns);
        return;
    }
    // No buffer was free: count the answer by its header alone.
    stats_.latency.record(now_ns - s.sent_ns);
    outcome(s, Stat::Answered, FamilyStat::Answered);
    stats_.count_rc(s.response_code);
    finish(s, State::Done);
}

void Matcher::complete(Slot& s, ByteSpan message, std::uint64_t now_ns) noexcept
{
    std::array<char, wire::kMaxHandleLength> name;
    const AnswerCheck c = check_answer(message, generator_.handle(s.query, name));
    switch (c.verdict) {
    case AnswerCheck::Verdict::Ok:
        stats_.latency.record(now_ns - s.sent_ns);
        outcome(s, Stat::Answered, FamilyStat::Answered);
        stats_.add(Stat::Values, c.values);
        stats_.count_rc(c.response_code);
        break;
    case AnswerCheck::Verdict::Malformed:
        stats_.add(Stat::Malformed);
        outcome(s, Stat::Rejected, FamilyStat::Rejected);
        break;
    case AnswerCheck::Verdict::Wrong:
        stats_.add(Stat::Wrong);
        outcome(s, Stat::Rejected, FamilyStat::Rejected);
        break;
    }
    finish(s, State::Done);
}

void Matcher::outcome(const Slot& s, Stat what, FamilyStat per_family) noexcept
{
    stats_.add(what);
    if (family_ != FamilyMix::None)
        stats_.add_family(query_is_ipv6(family_, s.id), per_family);
}

void Matcher::finish(Slot& s, State state) noexcept
{
    if (s.buffer != kNoBuffer) {
        free_buffers_.push_back(s.buffer);
        s.buffer = kNoBuffer;
    }
    s.state = state;
    --outstanding_;
}

std::uint16_t Matcher::take_buffer() noexcept
{
    if (!free_buffers_.empty()) {
        const std::uint16_t b = free_buffers_.back();
        free_buffers_.pop_back();
        return b;
    }
    if (buffers_.size() >= kMaxReassemblyBuffers)
        return kNoBuffer;
    // Grows to the most answers ever reassembled at once, then only reuses.
    buffers_.push_back(std::make_unique<std::uint8_t[]>(kBufferSize));
    free_buffers_.reserve(buffers_.size());
    return static_cast<std::uint16_t>(buffers_.size() - 1);
}

void Matcher::expire(std::uint64_t now_ns) noexcept
{
    // Ids were issued in time order, so the oldest in flight is the first to expire.
    while (oldest_ != next_id_) {
        Slot& s = slot_of(oldest_);
        if (s.id == oldest_ && s.state == State::InFlight) {
            if (now_ns < s.sent_ns + timeout_ns_)
                return;
            outcome(s, Stat::Lost, FamilyStat::Lost);
            finish(s, State::Expired);
        }
        ++oldest_;
    }
}

void Matcher::expire_all() noexcept
{
    for (Slot& s : slots_) {
        if (s.state == State::InFlight) {
            outcome(s, Stat::Lost, FamilyStat::Lost);
            finish(s, State::Expired);
        }
    }
    oldest_ = next_id_;
}

} // namespace idpath::gun
