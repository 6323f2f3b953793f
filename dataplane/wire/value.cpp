#include "dataplane/wire/value.hpp"

#include <algorithm>
#include <utility>

#include "dataplane/wire/detail.hpp"

namespace idpath::wire {

namespace {

// A reference is at least an empty handle String and an int4 index.
constexpr std::size_t kMinReferenceSize = 8;

} // namespace

Result<ValueView, WireError> decode_value(ByteReader& r) noexcept
{
    const ByteSpan from = r.rest();
    const std::size_t start = r.position();
    ValueView v;
    v.index = r.u32();
    v.timestamp = r.u32();
    v.ttl_type = r.u8();
    v.ttl = r.u32();
    v.permissions = r.u8();
    v.type = r.string(kMaxHandleLength);
    v.data = r.string(kMaxArraySize);
    v.reference_count = r.u32();
    if (!r.ok())
        return Err{reader_error(r)};
    // Encoder.decodeHandleValue allocates the reference array from the count; bound it first.
    if (v.reference_count > kMaxArraySize)
        return Err{WireError::LengthTooLarge};
    if (v.reference_count > r.remaining() / kMinReferenceSize)
        return Err{WireError::Truncated};
    const std::size_t refs_start = r.position();
    for (std::uint32_t i = 0; i < v.reference_count && r.ok(); ++i) {
        (void)r.string(kMaxHandleLength);
        (void)r.u32();
    }
    if (!r.ok())
        return Err{reader_error(r)};
    v.references = from.subspan(refs_start - start, r.position() - refs_start);
    v.encoded = from.first(r.position() - start);
    return v;
}

HandleValue to_owned(const ValueView& v)
{
    HandleValue out;
    out.index = v.index;
    out.timestamp = v.timestamp;
    out.ttl_type = static_cast<TtlType>(v.ttl_type);
    out.ttl = v.ttl;
    out.permissions = v.permissions;
    out.type.assign(as_string_view(v.type));
    out.data.assign(v.data.begin(), v.data.end());
    // decode_value validated the list, so these reads cannot fail; the bounds only guard
    // against a hand-made view.
    out.references.reserve(std::min<std::size_t>(v.reference_count,
                                                  v.references.size() / kMinReferenceSize));
    ByteReader r(v.references);
    for (std::uint32_t i = 0; i < v.reference_count && r.ok(); ++i) {
        Reference ref;
        ref.handle.assign(as_string_view(r.string(kMaxHandleLength)));
        ref.index = r.u32();
        out.references.push_back(std::move(ref));
    }
    return out;
}

std::size_t encoded_size(const HandleValue& v) noexcept
{
    std::size_t n = kValueFixedSize + v.type.size() + v.data.size();
    for (const Reference& ref : v.references)
        n += kMinReferenceSize + ref.handle.size();
    return n;
}

void encode_value(ByteWriter& w, const HandleValue& v) noexcept
{
    w.u32(v.index);
    w.u32(v.timestamp);
    w.u8(static_cast<std::uint8_t>(v.ttl_type));
    w.u32(v.ttl);
    w.u8(v.permissions);
    w.string(std::string_view(v.type));
    w.string(ByteSpan(v.data));
    w.u32(static_cast<std::uint32_t>(v.references.size()));
    for (const Reference& ref : v.references) {
        w.string(std::string_view(ref.handle));
        w.u32(ref.index);
    }
}

namespace {

/// `count` values from `r`. Common.MAX_HANDLE_VALUES; and every value takes at least
/// kValueFixedSize octets, which bounds the reserve below by the input rather than by the count.
Result<std::vector<HandleValue>, WireError> decode_n(ByteReader& r, std::uint32_t count)
{
    if (count > kMaxValues)
        return Err{WireError::TooManyValues};
    if (count > r.remaining() / kValueFixedSize)
        return Err{WireError::Truncated};
    std::vector<HandleValue> values;
    values.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        auto v = decode_value(r);
        if (!v)
            return Err{detail::error_of(v)};
        values.push_back(to_owned(*v));
    }
    return values;
}

} // namespace

Result<std::vector<HandleValue>, WireError> decode_value_list(ByteReader& r)
{
    const std::uint32_t count = r.u32();
    if (!r.ok())
        return Err{reader_error(r)};
    return decode_n(r, count);
}

Result<std::vector<HandleValue>, WireError> decode_values(ByteSpan encoded, std::uint32_t count)
{
    ByteReader r(encoded);
    auto values = decode_n(r, count);
    if (values && !r.at_end())
        return Err{WireError::TrailingBytes};
    return values;
}

std::string permissions_string(std::uint8_t permissions)
{
    std::string s = "----";
    if (permissions & perm::kAdminRead)
        s[0] = 'r';
    if (permissions & perm::kAdminWrite)
        s[1] = 'w';
    if (permissions & perm::kPublicRead)
        s[2] = 'r';
    if (permissions & perm::kPublicWrite)
        s[3] = 'w';
    return s;
}

} // namespace idpath::wire
