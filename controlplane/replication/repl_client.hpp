#pragma once
/// The mirror role's replication client (docs/replication.md): keeps the node's table equal to an
/// upstream primary's (a HANDLE.NET 9.x primary, the national top-level node, or another
/// idpathd). Per round: connect over TCP, send the request, answer the 402 challenge as the
/// configured replication admin (HS_PUBKEY: RSA signature; HS_SECKEY: the secret's answer) on a
/// new connection, read the reply, then the stream inside TLS (the server certificate must carry
/// the configured upstream key) or in signed blocks checked with that key; never unsigned data.
///
/// First a full dump (OC_DUMP_HANDLES) when there is no saved state; then the transaction log
/// (OC_RETRIEVE_TXN_LOG) every interval from the saved last txn id and date; NEED_TO_REDUMP
/// starts a dump. Everything pulled is applied through SinkPort (journaled) before the state
/// file (repl_state.hpp) advances, so a restart resumes where the table is. A failed round
/// (refused, bad signature, truncated or malformed stream, stall, wrong key) leaves the
/// serving table as it was, is logged and counted, and is retried after an exponential backoff
/// with jitter (backoff_min_ms doubling to backoff_max_ms). A dump whose stream breaks after
/// records arrived keeps them staged and resumes after the last one (HANDLE.NET's
/// startingPoint) a bounded number of times before it starts over (docs/replication.md).
/// Thread-safety: start()/stop() from one control thread; status_json(), sync_now(),
/// sync_status_json() from any (the admin socket).

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "controlplane/crypto/keys.hpp"
#include "controlplane/replication/table_port.hpp"
#include "dataplane/base/result.hpp"
#include "drivers/socket/address.hpp"

namespace idpath::replication {

struct ClientOptions {
    socket::Endpoint upstream;     // the primary's TCP admin interface
    crypto::Key upstream_key;      // its server public key: TLS certificate and signed blocks
    std::string admin_handle;      // "0.NA/88.100.1"
    std::uint32_t admin_index = 300;
    std::string auth_type = "HS_PUBKEY"; // or "HS_SECKEY"
    crypto::Key admin_key;               // HS_PUBKEY: the admin's private key
    std::vector<std::uint8_t> admin_secret; // HS_SECKEY
    ShardFilter shard;
    std::filesystem::path state_file;
    int interval_ms = 5000;
    int io_timeout_ms = 30000;
    int backoff_min_ms = 1000;
    int backoff_max_ms = 300000;
    /// Accept the signed-plaintext stream of a primary below protocol 2.8. Off by default: each
    /// block is signed alone and the dump's end is not, so a party on the path could cut or
    /// reorder blocks; TLS (every 9.x primary) has no such gap.
    bool allow_signed_blocks = false;
};

class ReplicationClient {
public:
    ReplicationClient(ClientOptions options, SinkPort& sink);
    ~ReplicationClient();
    ReplicationClient(const ReplicationClient&) = delete;
    ReplicationClient& operator=(const ReplicationClient&) = delete;

    /// Reads the state file (an unreadable or damaged one is an error naming it), starts the
    /// thread. `resume` false: ignore saved state and dump first (the table was not restored).
    Result<void, std::string> start(bool resume);
    void stop();
    /// Wakes the thread for a round now (idpathctl sync now).
    void sync_now();

    /// {"upstream":..,"state":"idle|connecting|dumping|pulling|backoff","last_txn_id":..,
    ///  "last_query_date_ms":..,"last_success_unix":..,"last_error":..,"consecutive_failures":..,
    ///  "next_attempt_in_ms":..,"counters":{"rounds":..,"dumps":..,"dump_resumes":..,"txns_applied":..,
    ///  "records_refused":..,"auth_failures":..,"stream_errors":..,"timeouts":..,"connect_failures":..}}
    std::string status_json() const;
    /// Asks the upstream for its digest (kOpSyncDigest) of this node's shard and compares it with
    /// the node's own: {"upstream_txn_id":..,"local_txn_id":..,"equal":true|false,
    ///  "differing_buckets":[..],"records":{"upstream":..,"local":..}} or an error (e.g. the
    /// upstream is not idpathd: "upstream does not serve digests (rc 5)").
    Result<std::string, std::string> sync_status_json();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace idpath::replication
