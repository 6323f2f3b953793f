#pragma once
/// Keys for the crypto tests, made at run time (no key fixtures in the tree), and writers of the
/// formats the loaders read, HANDLE.NET's included.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "controlplane/crypto/keys.hpp"

namespace idpath::crypto::testing {

/// A fresh RSA key pair of `bits`.
Key make_rsa(unsigned bits = 2048);
/// Two RSA-2048 key pairs made once per process (key generation is slow).
const Key& rsa_a();
const Key& rsa_b();

/// PEM text: "pkcs8" (PRIVATE KEY), "pkcs1" (RSA PRIVATE KEY), "encrypted" (ENCRYPTED PRIVATE
/// KEY), "spki" (PUBLIC KEY), "pkcs1-public" (RSA PUBLIC KEY).
std::string pem(const Key& key, const std::string& form);

/// A HANDLE.NET private key file: int4 1 | String type | Strings of the integers. `crt` picks
/// RSA_PRIVCRT_KEY over RSA_PRIV_KEY; `java_form` writes BigInteger.toByteArray() (a 00 before a
/// set top bit), otherwise bare magnitudes.
std::vector<std::uint8_t> handle_net_private(const Key& key, bool crt, bool java_form = true,
                                             std::uint32_t encryption = 1);

void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);
void write_file(const std::filesystem::path& path, const std::string& text);

/// A fresh temporary directory, removed at destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

} // namespace idpath::crypto::testing
