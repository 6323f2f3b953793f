#pragma once
/// Serving as an upstream (docs/replication.md): a TCP listener (replication.serve.listen,
/// advertised as the site's admin interface) that answers OC_GET_NEXT_TXN_ID (1000),
/// OC_RETRIEVE_TXN_LOG (1001), OC_DUMP_HANDLES (1002) and idpath's kOpSyncDigest as a HANDLE.NET
/// 9.x primary does on the wire: a 402 challenge signed with the server key, then the client
/// reconnects with OC_RESPONSE_TO_CHALLENGE (200) echoing the session id; a good answer from a
/// configured replication admin gets the original request's reply, "TLS\0" and the stream
/// inside TLS (or signed plaintext blocks for a request below protocol 2.8).
///
/// Bounded: connections (max_connections; beyond it new ones are closed at once and counted),
/// pending challenges (by session id, expire after challenge_ttl_ms), per-connection deadlines
/// (a stalled mirror is dropped). One thread per connection, never on the serving path.
/// Thread-safety: start()/stop() from one control thread; stats_json() from any.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/crypto/keys.hpp"
#include "controlplane/replication/table_port.hpp"
#include "dataplane/base/result.hpp"
#include "drivers/socket/address.hpp"

namespace idpath::replication {

/// A replication admin: "300:0.NA/88.100.1" (HANDLE.NET's index:handle), with its key from a file
/// or, when none is given, from the node's own table (the handle's value at that index, as
/// HANDLE.NET resolves it).
struct AdminSpec {
    std::uint32_t index = 0;
    std::string handle;
    std::filesystem::path key_file; // empty: from the table
};
/// Parses "300:0.NA/88.100.1" or "300:0.NA/88.100.1 /etc/idpath/admin.pub"; error says why.
Result<AdminSpec, std::string> parse_admin_spec(std::string_view text);

struct ServerOptions {
    std::vector<socket::Endpoint> listen;
    crypto::Key server_key; // private: signs challenges and replies, makes the TLS certificate
    std::vector<AdminSpec> admins;
    std::size_t max_connections = 16;
    int io_timeout_ms = 30000;       // a peer that neither sends nor reads for this long is dropped
    int challenge_ttl_ms = 60000;    // a 402 not answered within this is forgotten
    std::size_t max_pending_challenges = 256;
};

class ReplicationServer {
public:
    /// `source` must outlive the server.
    ReplicationServer(ServerOptions options, SourcePort& source);
    ~ReplicationServer();
    ReplicationServer(const ReplicationServer&) = delete;
    ReplicationServer& operator=(const ReplicationServer&) = delete;

    /// Binds every endpoint, loads admin key files (errors name file and why), starts.
    Result<void, std::string> start();
    /// Closes the listeners and every connection, joins. Idempotent.
    void stop();
    std::vector<socket::Endpoint> bound() const;

    /// {"connections":..,"challenges_sent":..,"auth_ok":..,"auth_failed":..,"dumps":..,
    ///  "dump_resumes":..,"txn_pulls":..,"redumps_requested":..,"records_sent":..,"bytes_sent":..,"errors":..}
    std::string stats_json() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace idpath::replication
