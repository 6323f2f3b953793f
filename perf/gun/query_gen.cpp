#include "perf/gun/query_gen.hpp"

#include <algorithm>
#include <array>

#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"

namespace idpath::gun {
namespace {

/// A miss serial keeps the stream in its top 24 bits, so names never repeat across sockets.
constexpr unsigned kStreamShift = 40;
constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ull;

} // namespace

std::size_t QueryShape::max_handle_length() const noexcept
{
    // Envelope, header, handle length, index count, type count, credential length.
    std::size_t fixed = wire::kEnvelopeSize + wire::kHeaderSize + 4 + 4 + 4 + wire::kCredentialLengthSize;
    fixed += 4 * indexes.size();
    for (const auto& t : types)
        fixed += 4 + t.size();
    return fixed >= wire::kMaxUdpDatagram ? 0 : wire::kMaxUdpDatagram - fixed;
}

QueryGenerator::QueryGenerator(const IdentifierSet& ids, const QueryShape& shape, const GeneratorConfig& config,
                               std::uint64_t stream)
    : ids_(ids),
      shape_(shape),
      types_(shape.types.begin(), shape.types.end()),
      popularity_(ids.size(), config.zipf),
      rng_(config.seed ^ (stream * kGoldenGamma)),
      miss_ratio_(config.miss_ratio),
      stream_(stream)
{
}

QuerySpec QueryGenerator::next() noexcept
{
    QuerySpec q;
    // Draw the miss decision first and always, so the hit sequence does not depend on it.
    const bool miss = miss_ratio_ > 0 && rng_.unit() < miss_ratio_;
    if (miss) {
        q.miss = true;
        q.index = static_cast<std::uint32_t>(rng_.below(ids_.prefixes().size()));
        q.serial = (stream_ << kStreamShift) | (misses_++ & ((1ull << kStreamShift) - 1));
    } else {
        q.index = static_cast<std::uint32_t>(popularity_(rng_));
    }
    return q;
}

std::string_view QueryGenerator::handle(const QuerySpec& q, std::span<char> buf) const noexcept
{
    if (!q.miss)
        return ids_.at(q.index);
    const std::string& prefix = ids_.prefixes()[q.index];
    const std::size_t length = prefix.size() + kMissSuffixLength;
    if (length > buf.size())
        return {};
    char* p = std::copy(prefix.begin(), prefix.end(), buf.data());
    p = std::copy(kMissInfix.begin(), kMissInfix.end(), p);
    constexpr char kHex[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4)
        *p++ = kHex[(q.serial >> shift) & 0xf];
    return {buf.data(), length};
}

std::size_t QueryGenerator::encode(const QuerySpec& q, std::uint32_t request_id, std::uint32_t now_unix,
                                   MutableByteSpan out) const noexcept
{
    std::array<char, wire::kMaxHandleLength> buf;
    const std::string_view h = handle(q, buf);
    if (h.empty())
        return 0;
    wire::MessageWriter m(out);
    wire::encode_resolution_request(m.body(), h, shape_.indexes, types_);
    wire::Envelope env;
    env.suggested_major = wire::kImplMajor; // as the reference client does (vectors/README.md)
    env.suggested_minor = wire::kImplMinor;
    env.request_id = request_id;
    wire::Header hdr;
    hdr.opcode = static_cast<std::uint32_t>(wire::OpCode::Resolution);
    hdr.op_flags = shape_.op_flags;
    hdr.expiration = now_unix + wire::kDefaultExpirationSeconds;
    return m.finish(env, hdr);
}

} // namespace idpath::gun
