#include "dataplane/wire/admin_values.hpp"

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/detail.hpp"

namespace idpath::wire {

namespace {

constexpr std::size_t kMinReferenceSize = 4 + 4; // empty handle String, int4 index

// Reads String handle + int4 index after a permission field of `perm_size` octets and checks
// that exactly `slack` octets are left.
bool try_admin_layout(ByteSpan data, std::size_t perm_size, std::size_t slack, AdminRecord& out,
                      WireError& err)
{
    ByteReader r(data);
    const std::uint32_t perms = perm_size == 2 ? r.u16() : r.u32();
    auto handle = detail::read_handle(r, true);
    if (!handle) {
        err = detail::error_of(handle);
        return false;
    }
    const std::uint32_t index = r.u32();
    if (!r.ok()) {
        err = reader_error(r);
        return false;
    }
    if (r.remaining() != slack) {
        err = r.remaining() > slack ? WireError::TrailingBytes : WireError::Truncated;
        return false;
    }
    if (perms > 0xffff) {
        err = WireError::BadField;
        return false;
    }
    out.permissions = static_cast<std::uint16_t>(perms);
    out.admin_handle.assign(as_string_view(*handle));
    out.admin_index = index;
    return true;
}

} // namespace

Result<AdminRecord, WireError> decode_admin_record(ByteSpan data)
{
    // handle-protocol.md 1.10.2: int2 permissions, String handle, int4 index.
    AdminRecord a;
    WireError err = WireError::Truncated;
    if (try_admin_layout(data, 2, 0, a, err))
        return a;
    const WireError first = err;
    // Legacy records are 2 octets longer (4+4+len+4). HANDLE.NET (Encoder.decodeAdminRecord,
    // legacyByteLength) reads them as int2 permissions with 2 octets of padding at the end,
    // which is how its old encoder sized the buffer; other writers put an int4 permission
    // field first. Accept both, CNRI's reading first.
    if (try_admin_layout(data, 2, 2, a, err) || try_admin_layout(data, 4, 0, a, err))
        return a;
    return Err{first};
}

void encode_admin_record(ByteWriter& w, const AdminRecord& a) noexcept
{
    w.u16(a.permissions);
    w.string(std::string_view(a.admin_handle));
    w.u32(a.admin_index);
}

std::vector<std::uint8_t> encode_admin_record(const AdminRecord& a)
{
    std::vector<std::uint8_t> out(2 + 4 + a.admin_handle.size() + 4);
    ByteWriter w(out);
    encode_admin_record(w, a);
    return out;
}

Result<std::vector<Reference>, WireError> decode_value_reference_list(ByteSpan data)
{
    // Encoder.decodeValueReferenceList.
    ByteReader r(data);
    const std::uint32_t count = r.u32();
    if (!r.ok())
        return Err{reader_error(r)};
    if (count > kMaxArraySize)
        return Err{WireError::LengthTooLarge};
    if (count > r.remaining() / kMinReferenceSize)
        return Err{WireError::Truncated};
    std::vector<Reference> refs;
    refs.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        auto handle = detail::read_handle(r, true);
        if (!handle)
            return Err{detail::error_of(handle)};
        Reference ref;
        ref.handle.assign(as_string_view(*handle));
        ref.index = r.u32();
        if (!r.ok())
            return Err{reader_error(r)};
        refs.push_back(std::move(ref));
    }
    if (!r.at_end())
        return Err{WireError::TrailingBytes};
    return refs;
}

std::vector<std::uint8_t> encode_value_reference_list(const std::vector<Reference>& refs)
{
    std::size_t size = 4;
    for (const Reference& ref : refs)
        size += kMinReferenceSize + ref.handle.size();
    std::vector<std::uint8_t> out(size);
    ByteWriter w(out);
    w.u32(static_cast<std::uint32_t>(refs.size()));
    for (const Reference& ref : refs) {
        w.string(std::string_view(ref.handle));
        w.u32(ref.index);
    }
    return out;
}

} // namespace idpath::wire
