#pragma once
/// Keys for replication authentication and the replication stream's TLS (docs/replication.md):
/// RSA (and DSA where HANDLE.NET keys are DSA) private and public keys read from PEM files or
/// HANDLE.NET's own formats, and HMAC secrets (HS_SECKEY). OpenSSL underneath.
/// Control plane only. Any thread (the key objects are immutable once loaded).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace idpath::crypto {

/// An owned EVP_PKEY (private or public).
class Key {
public:
    Key() = default;
    explicit Key(EVP_PKEY* pkey) noexcept; // adopts
    ~Key();
    Key(const Key&);
    Key& operator=(const Key&);
    Key(Key&&) noexcept;
    Key& operator=(Key&&) noexcept;

    EVP_PKEY* get() const noexcept { return pkey_; }
    explicit operator bool() const noexcept { return pkey_ != nullptr; }
    bool is_private() const noexcept { return private_; }
    /// "RSA-2048", "DSA-1024"
    std::string describe() const;

private:
    EVP_PKEY* pkey_ = nullptr;
    bool private_ = false;
    friend Result<Key, std::string> private_key_from_bytes(ByteSpan, const std::optional<std::string>&);
};

/// A private key from a PEM file (PKCS#1 or PKCS#8, unencrypted) or a HANDLE.NET private key
/// file (admpriv.bin / privkey.bin): unencrypted (type 1), or encrypted with `passphrase`
/// (type 4, handle_net_key_crypt.hpp). Errors name the file and why ("admpriv.bin: HANDLE.NET
/// key encrypted (type 4): give its passphrase").
Result<Key, std::string> load_private_key(const std::filesystem::path& file,
                                          const std::optional<std::string>& passphrase = std::nullopt);
Result<Key, std::string> private_key_from_bytes(ByteSpan bytes,
                                                const std::optional<std::string>& passphrase = std::nullopt);

/// A key's passphrase from `file`: its first line, without the line end. Refused when empty.
Result<std::string, std::string> load_passphrase(const std::filesystem::path& file);

/// A public key from a PEM file (SubjectPublicKeyInfo or PKCS#1), a HANDLE.NET public key record
/// file (pubkey.bin, research section 1.10.1), or a PEM/record held in an HS_PUBKEY value.
Result<Key, std::string> load_public_key(const std::filesystem::path& file);
Result<Key, std::string> public_key_from_bytes(ByteSpan bytes);

/// The HANDLE.NET public key record of `key` (RSA_PUB_KEY / DSA_PUB_KEY), as HS_PUBKEY values
/// and HS_SITE server entries hold it.
std::vector<std::uint8_t> public_key_record(const Key& key);
/// True when `a` and `b` are the same public key (a private key compares by its public half).
bool same_public_key(const Key& a, const Key& b);

/// An HS_SECKEY secret: the raw octets of the file (a trailing newline is not part of it).
Result<std::vector<std::uint8_t>, std::string> load_secret(const std::filesystem::path& file);

} // namespace idpath::crypto
