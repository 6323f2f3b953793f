#pragma once
// Builds what a server would send back, for the matcher and answer-check tests: answers with
// values or errors, optionally with a request digest, and their split into UDP datagrams.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::gun::test {

using Bytes = std::vector<std::uint8_t>;

struct AnswerSpec {
    std::uint32_t request_id = 1;
    std::string handle = "88.100.1/abc";
    std::uint32_t response_code = 1;
    std::uint32_t opcode = 1;
    std::size_t values = 1;
    std::size_t value_size = 40; // data octets of each value
    bool digest = false;         // RD: a SHA-256 prefix (content not checked by the gun)
};

/// Envelope + whole message, as over TCP or in one datagram.
inline Bytes make_answer(const AnswerSpec& a)
{
    Bytes out(wire::kEnvelopeSize + wire::kMaxMessageLength);
    wire::MessageWriter m(out);
    ByteWriter& w = m.body();
    if (a.digest) {
        w.u8(3);
        for (int i = 0; i < 32; ++i)
            w.u8(0xab);
    }
    if (a.response_code == 1) {
        w.string(a.handle);
        w.u32(static_cast<std::uint32_t>(a.values));
        for (std::size_t i = 0; i < a.values; ++i) {
            wire::HandleValue v;
            v.index = static_cast<std::uint32_t>(i + 1);
            v.type = "URL";
            v.data.assign(a.value_size, 'x');
            wire::encode_value(w, v);
        }
    } else {
        w.string(std::string_view("not here"));
    }
    wire::Envelope env;
    env.request_id = a.request_id;
    wire::Header h;
    h.opcode = a.opcode;
    h.response_code = a.response_code;
    h.op_flags = a.digest ? wire::opflag::kReturnDigest : 0;
    out.resize(m.finish(env, h));
    return out;
}

/// Splits an envelope + message into datagrams of 492 message octets each (RFC 3652 2.3.1).
inline std::vector<Bytes> split(const Bytes& whole)
{
    std::vector<Bytes> parts;
    const std::size_t length = whole.size() - wire::kEnvelopeSize;
    for (std::size_t off = 0, k = 0; off < length; off += wire::kMaxUdpChunk, ++k) {
        Bytes d(whole.begin(), whole.begin() + wire::kEnvelopeSize);
        d[12] = 0; // SequenceNumber, big-endian at offset 12 (k < 256 here)
        d[13] = 0;
        d[14] = 0;
        d[15] = static_cast<std::uint8_t>(k);
        const std::size_t n = std::min(wire::kMaxUdpChunk, length - off);
        d.insert(d.end(), whole.begin() + static_cast<std::ptrdiff_t>(wire::kEnvelopeSize + off),
                 whole.begin() + static_cast<std::ptrdiff_t>(wire::kEnvelopeSize + off + n));
        parts.push_back(std::move(d));
    }
    return parts;
}

} // namespace idpath::gun::test
