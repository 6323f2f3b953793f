#pragma once
/// The values of one generated identifier (docs/idpath-datagen.md): 1..6 of them, always a URL at
/// index 1, then HS_ADMIN at 100, a JSON "product.spec" at 10, and some of EMAIL, manufacturer,
/// product.name, product.batch and GS1. The identifier's total data is drawn from a triangular
/// distribution over [kMinDataOctets, kMaxDataOctets] peaking at kModeDataOctets; the elastic
/// value (product.spec, or the URL when there is none) grows to meet it.
/// Thread-safety: pure given the Random; one Random per thread.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "perf/datagen/identifier.hpp"
#include "perf/gun/random.hpp"

namespace idpath::datagen {

inline constexpr std::size_t kMinDataOctets = 50;
inline constexpr std::size_t kModeDataOctets = 200;
inline constexpr std::size_t kMaxDataOctets = 500;

/// HANDLE.NET's default for a handle's own HS_ADMIN: every permission but the derived-prefix
/// ones (add_handle .. list_handles without add/delete_derived_prefix), 0x0FF3.
inline constexpr std::uint16_t kDefaultAdminPermissions = 0x0FF3;
/// The admin's index in its prefix handle "0.NA/<prefix>", as the sample data has it.
inline constexpr std::uint32_t kAdminIndex = 200;

/// Fills out.slots[0..out.count) for an identifier under `prefix` with serial `serial`.
void make_values(std::string_view prefix, std::uint64_t serial, gun::Random& rng, Identifier& out);

} // namespace idpath::datagen
