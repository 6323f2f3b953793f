#pragma once
/// Is this the answer to the query we sent? Checks one complete answer message (MessageLength
/// octets after the envelope; reassembled already when it came in several datagrams).
/// Thread-safety: pure. Hot path: never allocates.

#include <cstdint>
#include <string_view>

#include "dataplane/base/bytes.hpp"

namespace idpath::gun {

struct AnswerCheck {
    enum class Verdict : std::uint8_t {
        Ok,
        Malformed, // does not decode: message, request digest, or a success body
        Wrong,     // decodes, but answers something else: another opcode or handle, or a request
    };
    Verdict verdict = Verdict::Malformed;
    std::uint32_t response_code = 0;
    std::uint32_t values = 0; // in a successful answer
};

/// Checks an answer to a RESOLUTION of `handle`: the message decodes (header, body length,
/// credential length); it is a response (ResponseCode != 0) to OC_RESOLUTION; a request digest,
/// when the answer says RD, has a known hash type and fits; a success body echoes `handle`
/// octet for octet and carries a value list that decodes to its end. Other bodies (errors,
/// referrals) are not read further.
AnswerCheck check_answer(ByteSpan message, std::string_view handle) noexcept;

} // namespace idpath::gun
