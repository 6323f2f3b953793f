#include "drivers/socket/reply_collector.hpp"

#include <algorithm>
#include <cstring>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/fragment.hpp"

namespace idpath::socket {

ReplyCollector::Status ReplyCollector::add(ByteSpan datagram)
{
    if (complete_ || datagram.size() < wire::kEnvelopeSize)
        return Status::Ignored;
    const auto env = wire::decode_envelope(datagram);
    if (!env || env->request_id != request_id_ || env->message_length < wire::kHeaderSize)
        return Status::Ignored;
    const ByteSpan payload = datagram.subspan(wire::kEnvelopeSize);
    const std::size_t length = env->message_length;

    if (!started_ && env->sequence == 0 && payload.size() == length) {
        // The whole message in one datagram (or one TCP frame).
        started_ = complete_ = true;
        envelope_ = *env;
        message_.assign(payload.begin(), payload.end());
        datagrams_ = 1;
        bytes_ = datagram.size();
        return Status::Complete;
    }

    const std::uint32_t count = wire::datagram_count(length);
    const std::uint64_t offset = std::uint64_t{env->sequence} * wire::kMaxUdpChunk;
    if (env->sequence >= count ||
        payload.size() != std::min<std::uint64_t>(wire::kMaxUdpChunk, length - offset))
        return Status::Ignored;
    if (!started_) {
        started_ = true;
        envelope_ = *env;
        envelope_.sequence = 0;
        message_.assign(length, 0);
        have_.assign(count, false);
        missing_ = count;
    } else if (length != message_.size() || have_[env->sequence]) {
        return Status::Ignored;
    }
    have_[env->sequence] = true;
    std::memcpy(message_.data() + offset, payload.data(), payload.size());
    ++datagrams_;
    bytes_ += datagram.size();
    if (--missing_ > 0)
        return Status::Incomplete;
    complete_ = true;
    return Status::Complete;
}

} // namespace idpath::socket
