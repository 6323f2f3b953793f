// Drives a small Reassembler with datagrams described by the input and checks its bounds.
#include <cstddef>
#include <cstdint>

#include "dataplane/wire/fragment.hpp"
#include "dataplane/wire/reassembly.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    ReassemblyLimits limits;
    limits.max_entries = 4;
    limits.max_bytes = 6000;
    limits.max_entries_per_source = 3;
    limits.max_message_length = 4000;
    limits.timeout_ms = 50;
    Reassembler r(limits);

    fuzz::Input in(data, size);
    std::uint64_t now = 0;
    // Each step: source, request id, sequence, message length, payload size, clock advance.
    while (!in.empty()) {
        const std::uint8_t src_byte = in.u8();
        SourceKey src;
        src.address[15] = src_byte & 7;
        src.port = src_byte >> 6;
        Envelope env;
        env.request_id = in.u8() & 3;
        env.sequence = in.u8() & 15;
        env.message_length = in.u16() % 5000;
        const std::uint16_t want = in.u16() % 600;
        now += in.u8() & 31;
        const ByteSpan payload = in.take(want);

        const auto o = r.add(src, env, payload, now);
        fuzz::check(r.pending() <= limits.max_entries);
        fuzz::check(r.pending_bytes() <= limits.max_bytes);
        if (o.status == Reassembler::Status::Complete) {
            fuzz::check(o.message.size() == o.envelope.message_length);
            fuzz::check(o.envelope.sequence == 0);
            fuzz::check(o.envelope.request_id == env.request_id);
            fuzz::check(o.message.size() <= limits.max_message_length);
        }
        if ((src_byte & 0x38) == 0x38)
            r.expire(now);
    }
    const ReassemblyStats& s = r.stats();
    fuzz::check(s.started.get() == s.completed.get() + s.expired.get() + r.pending());
    return 0;
}
