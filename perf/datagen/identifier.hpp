#pragma once
/// One generated identifier, before it is written out: its handle and 1..kMaxValues values in
/// index order. Both writers read this one model (json_line.hpp for files, handle_values.hpp for
/// in-process tables), so a benchmark's table holds exactly what a loaded file would.
/// Thread-safety: plain data; one instance per thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace idpath::datagen {

/// Most values one identifier gets.
inline constexpr std::size_t kMaxValues = 6;

struct GenValue {
    std::uint32_t index = 0;
    std::string_view type;      // points at a static string
    bool admin = false;         // HS_ADMIN: `data` is the admin handle, see admin_* below
    std::string data;           // the value's octets (for admin: the admin handle)
    std::uint32_t admin_index = 0;
    std::uint16_t admin_permissions = 0;
    std::uint32_t timestamp = 0;
    bool ttl_given = false;     // false: the format's default (86400, relative)
    bool ttl_absolute = false;
    std::uint32_t ttl = 0;
    std::string_view permissions; // empty: the default "rwr-"

    /// Octets of data this value carries once encoded (HS_ADMIN: its encoded record).
    std::size_t data_size() const noexcept
    {
        return admin ? 2 + 4 + data.size() + 4 : data.size();
    }
};

/// Reused across identifiers: the values live in a fixed array so their strings keep their
/// capacity and generating does not allocate once warm.
struct Identifier {
    std::string handle;
    std::array<GenValue, kMaxValues> slots;
    std::size_t count = 0;

    std::span<const GenValue> values() const noexcept { return {slots.data(), count}; }
    std::size_t data_size() const noexcept
    {
        std::size_t n = 0;
        for (const GenValue& v : values())
            n += v.data_size();
        return n;
    }
};

} // namespace idpath::datagen
