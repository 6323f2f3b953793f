#include "perf/gun/answer_check.hpp"

#include <algorithm>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::gun {
namespace {

using Verdict = AnswerCheck::Verdict;

/// Skips the RD prefix (handle-protocol.md 1.8.1): hash type, then the digest.
bool skip_digest(ByteReader& r) noexcept
{
    switch (static_cast<wire::DigestType>(r.u8())) {
    case wire::DigestType::LegacyMd5: (void)r.string(64); break;
    case wire::DigestType::Md5: r.skip(16); break;
    case wire::DigestType::Sha1: r.skip(20); break;
    case wire::DigestType::Sha256: r.skip(32); break;
    default: return false;
    }
    return r.ok();
}

} // namespace

AnswerCheck check_answer(ByteSpan message, std::string_view handle) noexcept
{
    AnswerCheck c;
    const auto m = wire::decode_message(message);
    if (!m.ok())
        return c;
    const wire::Header& h = m->header;
    c.response_code = h.response_code;
    if (h.is_request() || h.opcode != static_cast<std::uint32_t>(wire::OpCode::Resolution)) {
        c.verdict = Verdict::Wrong;
        return c;
    }
    ByteReader r(m->body);
    if (h.has(wire::opflag::kReturnDigest) && !skip_digest(r))
        return c;
    if (h.response_code != static_cast<std::uint32_t>(wire::ResponseCode::Success)) {
        c.verdict = Verdict::Ok;
        return c;
    }

    // handle-protocol.md 1.8.3: the handle as requested, then int4 count and the values.
    const ByteSpan echoed = r.string(wire::kMaxHandleLength);
    const std::uint32_t count = r.u32();
    if (!r.ok() || count > wire::kMaxValues)
        return c;
    if (!std::equal(echoed.begin(), echoed.end(), handle.begin(), handle.end(),
                    [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); })) {
        c.verdict = Verdict::Wrong;
        return c;
    }
    for (std::uint32_t i = 0; i < count; ++i)
        if (!wire::decode_value(r).ok())
            return c;
    if (!r.at_end())
        return c;
    c.values = count;
    c.verdict = Verdict::Ok;
    return c;
}

} // namespace idpath::gun
