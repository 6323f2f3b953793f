#include "drivers/socket/tcp_framer.hpp"

#include <algorithm>
#include <cstring>

#include "dataplane/wire/constants.hpp"

namespace idpath::socket {

std::size_t TcpFramer::payload_length(const wire::Envelope& e) noexcept
{
    if (!e.truncated() || e.message_length <= wire::kMaxUdpChunk)
        return e.message_length;
    // TC over TCP: the message travels as 492-octet chunks, each behind its own envelope, laid
    // out exactly as UDP datagrams would be (Teleinfo's Netty codec reassembles these).
    const std::uint64_t offset = std::uint64_t{e.sequence} * wire::kMaxUdpChunk;
    if (offset >= e.message_length)
        return 0;
    return std::min<std::uint64_t>(wire::kMaxUdpChunk, e.message_length - offset);
}

TcpFramer::Status TcpFramer::front(std::size_t& frame_size) noexcept
{
    frame_size = 0;
    if (buffered() < wire::kEnvelopeSize)
        return Status::NeedMore;
    const std::uint8_t* at = buf_.get() + begin_;
    const auto env = wire::decode_envelope(ByteSpan{at, wire::kEnvelopeSize});
    if (!env) // MessageLength (octets 16-19) above the protocol limit, or a version we do not speak
        return load_be32(at + 16) > wire::kMaxMessageLength ? Status::TooLarge : Status::Malformed;
    // A message holds at least its header (RFC 3652 section 2.2); anything shorter cannot be a
    // request, and a length above the limit would have us buffer what we will never answer.
    if (env->message_length < wire::kHeaderSize)
        return Status::Malformed;
    if (env->message_length > max_message_)
        return Status::TooLarge;
    const std::size_t payload = payload_length(*env);
    if (payload == 0)
        return Status::Malformed;
    envelope_ = *env;
    frame_size = wire::kEnvelopeSize + payload;
    return buffered() >= frame_size ? Status::Frame : Status::NeedMore;
}

TcpFramer::Status TcpFramer::next() noexcept
{
    std::size_t size = 0;
    const Status s = front(size);
    if (s == Status::Frame) {
        frame_size_ = size;
        payload_ = ByteSpan{buf_.get() + begin_ + wire::kEnvelopeSize, size - wire::kEnvelopeSize};
    }
    return s;
}

void TcpFramer::pop() noexcept
{
    begin_ += frame_size_;
    frame_size_ = 0;
    payload_ = {};
    if (begin_ == end_) {
        begin_ = end_ = 0;
        // Give back a buffer grown for one large frame; the next small frame needs none of it.
        if (capacity_ > kSmallBuffer) {
            buf_.reset();
            capacity_ = 0;
        }
    }
}

MutableByteSpan TcpFramer::space()
{
    if (!buf_) {
        capacity_ = kSmallBuffer;
        buf_ = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_);
    }
    std::size_t needed = 0;
    if (front(needed) != Status::NeedMore || needed == 0)
        needed = wire::kEnvelopeSize;
    if (needed > capacity_) {
        auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(needed);
        std::memcpy(bigger.get(), buf_.get() + begin_, buffered());
        end_ -= begin_;
        begin_ = 0;
        buf_ = std::move(bigger);
        capacity_ = needed;
    } else if (begin_ + needed > capacity_ || end_ == capacity_) {
        std::memmove(buf_.get(), buf_.get() + begin_, buffered());
        end_ -= begin_;
        begin_ = 0;
    }
    return MutableByteSpan{buf_.get() + end_, capacity_ - end_};
}

} // namespace idpath::socket
