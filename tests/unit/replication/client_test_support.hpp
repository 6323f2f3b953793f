#pragma once
/// What the replication client's tests share: RSA keys made at run time once per process (key
/// generation is slow): the upstream's server key, the replication admin's and a stranger's;
/// waiting for the client's thread; reading its status.

#include <openssl/evp.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "controlplane/crypto/keys.hpp"
#include "controlplane/replication/repl_client.hpp"

namespace idpath::replication::testing {

inline crypto::Key make_rsa()
{
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
    if (pkey == nullptr)
        throw std::runtime_error("RSA keygen failed");
    return crypto::Key(pkey);
}

/// Only the public half of `k`, as a mirror configures its upstream's key.
inline crypto::Key public_half(const crypto::Key& k)
{
    auto p = crypto::public_key_from_bytes(crypto::public_key_record(k));
    if (!p)
        throw std::runtime_error(p.error());
    return *p;
}

inline const crypto::Key& server_key()
{
    static const crypto::Key k = make_rsa();
    return k;
}
inline const crypto::Key& admin_key()
{
    static const crypto::Key k = make_rsa();
    return k;
}
inline const crypto::Key& other_key()
{
    static const crypto::Key k = make_rsa();
    return k;
}

/// Polls `done` until it holds or `timeout_ms` passed; its last answer.
inline bool eventually(const std::function<bool()>& done, int timeout_ms = 20000)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

inline nlohmann::json status(const ReplicationClient& c)
{
    return nlohmann::json::parse(c.status_json());
}

inline std::uint64_t counter(const ReplicationClient& c, const char* name)
{
    return status(c)["counters"][name].get<std::uint64_t>();
}

} // namespace idpath::replication::testing
