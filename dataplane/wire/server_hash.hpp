#pragma once
/// Which server of a multi-server site holds a handle (research/handle-protocol.md section 1.11
/// step 6, HANDLE.NET SiteInfo.getHandleHash / determineServerNum), exactly as Java computes it:
/// the part the site hashes by (prefix, suffix or whole handle), ASCII-uppercased (a-z only),
/// MD5, the last four octets as a big-endian signed int32, Math.abs (which leaves INT32_MIN
/// negative), then Java's % (sign of the dividend). Used by recursion (server choice) and by
/// sharded replication (numServers/serverNum). Pure; any thread.

#include <cstdint>
#include <string_view>

namespace idpath::wire {

/// The hashed part of `handle` for hash option 0 (prefix: before the first '/', "0.NA" when
/// there is none), 1 (suffix: after the first '/', the whole handle when there is none) or
/// 2 (whole handle). Other options hash the whole handle, as HANDLE.NET's default branch does.
std::string_view hash_part(std::string_view handle, std::uint8_t hash_option) noexcept;

/// Math.abs(int32 of the last four MD5 octets of the uppercased part): INT32_MIN stays negative.
std::int32_t handle_hash(std::string_view handle, std::uint8_t hash_option) noexcept;

/// handle_hash % num_servers with Java semantics: in [0, num_servers) except when the hash is
/// INT32_MIN, where it is <= 0 (HANDLE.NET then fails to pick a server; callers count it).
/// num_servers 0 returns -1.
std::int32_t server_number(std::string_view handle, std::uint8_t hash_option, std::uint32_t num_servers) noexcept;

/// Java's Math.abs (INT32_MIN stays INT32_MIN).
std::int32_t java_abs(std::int32_t v) noexcept;
/// Math.abs(hash) % n with Java semantics (the sign of the dividend): what server_number() does
/// after hashing, exposed so the INT32_MIN case is testable. n 0 returns -1.
std::int32_t java_abs_mod(std::int32_t hash, std::uint32_t n) noexcept;

} // namespace idpath::wire
