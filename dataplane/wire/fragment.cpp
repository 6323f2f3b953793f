#include "dataplane/wire/fragment.hpp"

#include <algorithm>
#include <cstring>

namespace idpath::wire {

ByteSpan fragment_payload(ByteSpan message, std::uint32_t k) noexcept
{
    const std::size_t offset = std::size_t{k} * kMaxUdpChunk;
    if (offset >= message.size())
        return {};
    return message.subspan(offset, std::min(kMaxUdpChunk, message.size() - offset));
}

void fragment_envelope(std::span<const std::uint8_t, kEnvelopeSize> base, std::uint32_t k,
                       std::uint32_t count, std::span<std::uint8_t, kEnvelopeSize> out) noexcept
{
    std::memmove(out.data(), base.data(), kEnvelopeSize);
    store_be32(out.data() + 12, k); // SequenceNumber (handle-protocol.md 1.3)
    if (count > 1)
        out[2] |= envflag::kTruncated;
}

} // namespace idpath::wire
