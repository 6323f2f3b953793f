// decode_frame, then decode_message and what a server reads out of a request.
#include <cstddef>
#include <cstdint>

#include "dataplane/wire/credential.hpp"
#include "dataplane/wire/fragment.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // The worker's prefetch hint reads any datagram: it must stay inside it, and agree with the
    // full decode whenever that finds a one-datagram RESOLUTION request.
    const ByteSpan peeked = peek_resolution_handle(ByteSpan(data, size));
    fuzz::check(peeked.empty() || (peeked.data() >= data && peeked.data() + peeked.size() <= data + size));
    auto frame = decode_frame(ByteSpan(data, size));
    if (!frame)
        return 0;
    const Envelope& env = frame->envelope;
    fuzz::check(env.message_length <= kMaxMessageLength);
    fuzz::check(frame->payload.data() == data + kEnvelopeSize);
    fuzz::check(env.sequence < datagram_count(env.message_length));
    if (frame->payload.size() != env.message_length)
        return 0; // one chunk of a longer message: the reassembler's business
    auto msg = decode_message(frame->payload);
    if (!msg)
        return 0;
    fuzz::check(msg->header_and_body.size() == kHeaderSize + msg->header.body_length);
    fuzz::check(msg->body.size() == msg->header.body_length);
    fuzz::check(msg->header_and_body.size() + (msg->has_credential_length ? 4 : 0) +
                    msg->credential.size() ==
                frame->payload.size());
    if (!msg->credential.empty())
        (void)decode_credential(msg->credential);
    if (msg->header.is_request() &&
        msg->header.opcode == static_cast<std::uint32_t>(OpCode::Resolution)) {
        auto req = decode_resolution_request(msg->body);
        if (req && env.sequence == 0)
            fuzz::check(peeked.data() == req->handle.data() && peeked.size() == req->handle.size());
        if (req) {
            std::uint64_t sum = 0;
            for (std::uint32_t i = 0; i < req->index_count; ++i)
                sum += req->index_at(i);
            TypeListIterator it(*req);
            std::uint32_t types = 0;
            for (ByteSpan t; it.next(t);)
                ++types;
            fuzz::check(types == req->type_count);
            (void)sum;
        }
    }
    return 0;
}
