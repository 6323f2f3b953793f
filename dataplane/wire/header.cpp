#include "dataplane/wire/header.hpp"

#include "dataplane/base/byte_reader.hpp"

namespace idpath::wire {

bool operator==(const Header& a, const Header& b) noexcept
{
    return a.opcode == b.opcode && a.response_code == b.response_code &&
           a.op_flags == b.op_flags && a.site_serial == b.site_serial &&
           a.recursion_count == b.recursion_count && a.expiration == b.expiration &&
           a.body_length == b.body_length;
}

Result<Header, WireError> decode_header(ByteSpan in) noexcept
{
    if (in.size() < kHeaderSize)
        return Err{WireError::Truncated};
    ByteReader r(in.first(kHeaderSize));
    Header h;
    h.opcode = r.u32();
    h.response_code = r.u32();
    h.op_flags = r.u32();
    h.site_serial = r.u16();
    h.recursion_count = r.u8();
    r.skip(1); // reserved (RFC 3652 section 2.2.2)
    h.expiration = r.u32();
    h.body_length = r.u32();
    return h;
}

void encode_header(const Header& h, std::span<std::uint8_t, kHeaderSize> out) noexcept
{
    std::uint8_t* p = out.data();
    store_be32(p, h.opcode);
    store_be32(p + 4, h.response_code);
    store_be32(p + 8, h.op_flags);
    store_be16(p + 12, h.site_serial);
    p[14] = h.recursion_count;
    p[15] = 0;
    store_be32(p + 16, h.expiration);
    store_be32(p + 20, h.body_length);
}

} // namespace idpath::wire
