#include "dataplane/wire/server_hash.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>

#include "dataplane/wire/constants.hpp"

namespace idpath::wire {

namespace {

constexpr std::string_view kNoPrefix = "0.NA";

/// MD5 of `part` with a-z uppercased, hashed in stack-sized pieces so no copy of the handle is
/// made. False when OpenSSL fails (no context, no MD5 in the provider).
bool md5_upper(std::string_view part, std::array<unsigned char, 16>& out) noexcept
{
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx)
        return false;
    bool ok = EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1;
    std::array<unsigned char, 256> chunk{};
    for (std::size_t at = 0; ok && at < part.size(); at += chunk.size()) {
        const std::size_t n = std::min(chunk.size(), part.size() - at);
        for (std::size_t i = 0; i < n; ++i) {
            const auto c = static_cast<unsigned char>(part[at + i]);
            // Only ASCII letters: multi-octet UTF-8 stays as is (HANDLE.NET Util.upperCase).
            chunk[i] = (c >= 'a' && c <= 'z') ? static_cast<unsigned char>(c - ('a' - 'A')) : c;
        }
        ok = EVP_DigestUpdate(ctx, chunk.data(), n) == 1;
    }
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
    EVP_MD_CTX_free(ctx);
    return ok;
}

} // namespace

std::string_view hash_part(std::string_view handle, std::uint8_t hash_option) noexcept
{
    const auto slash = handle.find('/');
    switch (hash_option) {
    case site::kHashByPrefix:
        return slash == std::string_view::npos ? kNoPrefix : handle.substr(0, slash);
    case site::kHashBySuffix:
        return slash == std::string_view::npos ? handle : handle.substr(slash + 1);
    default:
        return handle;
    }
}

std::int32_t java_abs(std::int32_t v) noexcept
{
    // Math.abs(Integer.MIN_VALUE) is Integer.MIN_VALUE: negate in unsigned arithmetic, which
    // wraps the same way, instead of overflowing a signed int.
    return v < 0 ? static_cast<std::int32_t>(0u - static_cast<std::uint32_t>(v)) : v;
}

std::int32_t java_abs_mod(std::int32_t hash, std::uint32_t n) noexcept
{
    if (n == 0)
        return -1;
    // Java's % truncates toward zero, as C++'s does; a divisor above INT32_MAX cannot be an int
    // in Java, and every |hash| is smaller than it anyway.
    if (n > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
        return java_abs(hash);
    return java_abs(hash) % static_cast<std::int32_t>(n);
}

std::int32_t handle_hash(std::string_view handle, std::uint8_t hash_option) noexcept
{
    std::array<unsigned char, 16> md{};
    if (!md5_upper(hash_part(handle, hash_option), md))
        return std::numeric_limits<std::int32_t>::min(); // "no server": callers count it
    const std::uint32_t last = (std::uint32_t{md[12]} << 24) | (std::uint32_t{md[13]} << 16) |
                               (std::uint32_t{md[14]} << 8) | std::uint32_t{md[15]};
    return java_abs(static_cast<std::int32_t>(last));
}

std::int32_t server_number(std::string_view handle, std::uint8_t hash_option,
                           std::uint32_t num_servers) noexcept
{
    if (num_servers == 0)
        return -1;
    return java_abs_mod(handle_hash(handle, hash_option), num_servers);
}

} // namespace idpath::wire
