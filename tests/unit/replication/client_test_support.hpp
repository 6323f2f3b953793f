#pragma once
/// What the replication client's tests share: RSA keys made at run time once per process (key
/// generation is slow): the upstream's server key, the replication admin's and a stranger's;
/// waiting for the client's thread; reading its status; the fixture of the tests against a
/// scripted upstream.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
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

/// A fresh state file per test, and the options of a client of a scripted upstream: quick
/// backoff, rounds after the first only through sync_now(), the pre-2.8 signed form allowed
/// (a scripted upstream speaks it).
class ScriptedClientTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        state_ = std::filesystem::temp_directory_path() /
                 ("idpath-repl-client-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove(state_);
    }
    void TearDown() override { std::filesystem::remove(state_); }

    ClientOptions options(const socket::Endpoint& upstream) const
    {
        ClientOptions o;
        o.upstream = upstream;
        o.upstream_key = public_half(server_key());
        o.admin_handle = "0.NA/88.100.1";
        o.admin_index = 300;
        o.admin_key = admin_key();
        o.state_file = state_;
        o.interval_ms = 600000;
        o.io_timeout_ms = 3000;
        o.backoff_min_ms = 20;
        o.backoff_max_ms = 40;
        o.allow_signed_blocks = true;
        return o;
    }

    std::filesystem::path state_;
};

} // namespace idpath::replication::testing
