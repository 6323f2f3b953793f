#pragma once
/// Byte spans and big-endian (network order) loads and stores.
///
/// Every multi-octet integer of the Handle protocol and of IP/UDP is big-endian. These helpers
/// read and write through memcpy so they are valid on any alignment and any host byte order.
/// Thread-safety: pure functions. Hot path: yes.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace idpath {

using ByteSpan = std::span<const std::uint8_t>;
using MutableByteSpan = std::span<std::uint8_t>;

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept
{
    std::uint16_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::little)
        v = __builtin_bswap16(v);
    return v;
}

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept
{
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::little)
        v = __builtin_bswap32(v);
    return v;
}

inline std::uint64_t load_be64(const std::uint8_t* p) noexcept
{
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::little)
        v = __builtin_bswap64(v);
    return v;
}

inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept
{
    if constexpr (std::endian::native == std::endian::little)
        v = __builtin_bswap16(v);
    std::memcpy(p, &v, sizeof v);
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept
{
    if constexpr (std::endian::native == std::endian::little)
        v = __builtin_bswap32(v);
    std::memcpy(p, &v, sizeof v);
}

inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept
{
    if constexpr (std::endian::native == std::endian::little)
        v = __builtin_bswap64(v);
    std::memcpy(p, &v, sizeof v);
}

inline std::string_view as_string_view(ByteSpan b) noexcept
{
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline ByteSpan as_bytes(std::string_view s) noexcept
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace idpath
