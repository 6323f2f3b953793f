#pragma once
/// How long a resolved answer may be kept (handle-protocol.md sections 1.8.4, 1.11 step 9):
/// HANDLE.NET's HandleValue.isExpired rules applied to a whole answer.
/// Thread-safety: pure functions.

#include <cstdint>
#include <span>

#include "dataplane/wire/value.hpp"

namespace idpath::recursion {

/// HANDLE.NET's MAX_RECOGNIZED_TTL: relative TTLs above it are read as two days.
inline constexpr std::uint32_t kMaxRecognizedTtl = 172800;

/// Seconds `v` may be cached at Unix time `now`: a relative TTL as is, an absolute one until
/// that time (0 once past), both capped at `max_ttl`. 0 means do not cache.
std::uint32_t value_ttl(const wire::HandleValue& v, std::uint64_t now,
                        std::uint32_t max_ttl) noexcept;

/// The smallest value_ttl() of `values`: one value that must not be cached keeps the whole answer
/// out. An empty list gives 0 (nothing tells how long).
std::uint32_t answer_ttl(std::span<const wire::HandleValue> values, std::uint64_t now,
                         std::uint32_t max_ttl) noexcept;

} // namespace idpath::recursion
