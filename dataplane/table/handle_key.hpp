#pragma once
/// Normalising handles into table keys. HANDLE.NET's default (case_sensitive off) stores and looks
/// up handles ASCII-uppercased; prefixes are always case-insensitive. Multi-octet UTF-8 is left
/// as is, as HANDLE.NET leaves it.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::table {

/// Buffer large enough for any normalised handle.
using KeyBuffer = std::array<char, wire::kMaxHandleLength>;

/// Uppercases ASCII a-z of `handle` into `out`; returns the key, or an empty view if `handle`
/// is longer than `out`.
inline std::string_view normalize_into(ByteSpan handle, std::span<char> out) noexcept
{
    if (handle.size() > out.size())
        return {};
    for (std::size_t i = 0; i < handle.size(); ++i) {
        const char c = static_cast<char>(handle[i]);
        out[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : c;
    }
    return {out.data(), handle.size()};
}

inline std::string normalize(std::string_view handle)
{
    std::string s(handle);
    for (char& c : s)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - ('a' - 'A'));
    return s;
}

/// The prefix handle "0.NA/<prefix>" of a prefix, normalised.
inline std::string prefix_handle(std::string_view prefix) { return "0.NA/" + normalize(prefix); }

} // namespace idpath::table
