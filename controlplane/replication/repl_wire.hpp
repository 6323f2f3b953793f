#pragma once
/// The replication messages' bodies (research/handle-protocol.md sections 1.8.7, 1.8.8, 1.15):
/// what a HANDLE.NET 9.x mirror sends a primary and what the primary answers, before the
/// stream (repl_stream.hpp) that follows the success reply. Pure encode and decode over spans:
/// unit-tested and fuzzed without sockets. Envelope, header and credential are the caller's
/// (dataplane/wire/message.hpp, credential_sign.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::replication {

/// Which part of the key space a mirror pulls (sharded replication): the handles whose
/// wire::server_number(handle, hash_type, num_servers) equals server_num. 1/0 = everything.
struct ShardFilter {
    std::uint8_t hash_type = 2; // site::kHashByHandle, what 9.x mirrors send
    std::uint32_t num_servers = 1;
    std::uint32_t server_num = 0;
    /// True when `handle` (a storage key) belongs to this shard.
    bool contains(std::string_view handle) const noexcept;
    bool operator==(const ShardFilter&) const = default;
};

/// OC_RETRIEVE_TXN_LOG (1001) request body, protocol >= 2.9 (mode 0) form.
struct RetrieveTxnRequest {
    std::uint8_t mode = 0; // 0: lastTxnId/lastQueryDate; 1: JSON replication state (decoded, not served)
    std::uint64_t last_txn_id = 0;
    std::int64_t last_query_date_ms = 0;
    std::string replication_state_json; // mode 1 only
    ShardFilter shard;
};
std::vector<std::uint8_t> encode_retrieve_txn_request(const RetrieveTxnRequest& r);
/// `minor` is the request's protocol minor version: before 2.9 the mode octet is absent.
Result<RetrieveTxnRequest, wire::WireError> decode_retrieve_txn_request(ByteSpan body, std::uint8_t major,
                                                                       std::uint8_t minor);

/// OC_DUMP_HANDLES (1002) request body.
struct DumpHandlesRequest {
    ShardFilter shard;
    std::optional<std::string> starting_point; // resume after this handle
    std::uint32_t starting_point_type = 0;
};
std::vector<std::uint8_t> encode_dump_handles_request(const DumpHandlesRequest& r);
Result<DumpHandlesRequest, wire::WireError> decode_dump_handles_request(ByteSpan body);

/// The 402 RC_AUTHENTICATION_NEEDED body: request digest (hash type + digest of the request's
/// header and body) and the server's nonce.
struct Challenge {
    std::uint8_t digest_type = 3; // wire::DigestType::Sha256
    std::vector<std::uint8_t> request_digest;
    std::vector<std::uint8_t> nonce; // 16 random octets
};
std::vector<std::uint8_t> encode_challenge(const Challenge& c);
Result<Challenge, wire::WireError> decode_challenge(ByteSpan body);

/// OC_RESPONSE_TO_CHALLENGE (200) request body.
struct ChallengeAnswer {
    std::string auth_type; // "HS_PUBKEY" or "HS_SECKEY"
    std::string admin_handle;
    std::uint32_t admin_index = 0;
    /// HS_PUBKEY: String algorithm ("SHA-256") + String signature, as HANDLE.NET nests them;
    /// HS_SECKEY: what SecretKeyAuthenticationInfo sends. Opaque here; crypto/ makes and checks it.
    std::vector<std::uint8_t> signed_response;
};
std::vector<std::uint8_t> encode_challenge_answer(const ChallengeAnswer& a);
Result<ChallengeAnswer, wire::WireError> decode_challenge_answer(ByteSpan body);

/// The octets an admin signs (HS_PUBKEY) or MACs (HS_SECKEY) to answer `c`, as HANDLE.NET's
/// PublicKeyAuthenticationInfo / SecretKeyAuthenticationInfo compute them: nonce || request digest.
std::vector<std::uint8_t> challenge_signing_input(const Challenge& c);

/// HS_PUBKEY signed_response: String algorithm + String signature.
std::vector<std::uint8_t> encode_pubkey_response(std::string_view algorithm, ByteSpan signature);
struct PubkeyResponse {
    std::string algorithm; // "SHA-256", "SHA1", ...
    std::vector<std::uint8_t> signature;
};
Result<PubkeyResponse, wire::WireError> decode_pubkey_response(ByteSpan signed_response);

/// OC_GET_NEXT_TXN_ID (1000) reply body: int8, the next transaction id the server will assign
/// (HANDLE.NET 9.x answers RC 5 instead; idpathd answers it).
std::vector<std::uint8_t> encode_next_txn_id(std::uint64_t next_txn_id);
Result<std::uint64_t, wire::WireError> decode_next_txn_id(ByteSpan body);

/// The success reply of 1001: one octet, bit 0 = keepAlive (9.x always sends 0 and closes). Of 1002: empty.
std::vector<std::uint8_t> encode_retrieve_txn_reply(bool keep_alive);

/// idpath's own sync-proof request (not HANDLE.NET; docs/replication.md): OC 0x49500001
/// ("IP" + 1), body = shard filter (int1 hash type, int4 num, int4 num); reply = int8 txn id
/// the digest was taken at, int8 records, int4 bucket count (64), then per bucket int8 sum and
/// int8 records. Served to authenticated replication admins only.
inline constexpr std::uint32_t kOpSyncDigest = 0x49500001;
struct SyncDigest {
    std::uint64_t txn_id = 0;
    std::uint64_t records = 0;
    std::vector<std::uint64_t> buckets;        // table::kDigestBuckets sums
    std::vector<std::uint64_t> bucket_records; // table::kDigestBuckets counts
};
std::vector<std::uint8_t> encode_sync_digest_request(const ShardFilter& f);
Result<ShardFilter, wire::WireError> decode_sync_digest_request(ByteSpan body);
std::vector<std::uint8_t> encode_sync_digest(const SyncDigest& d);
Result<SyncDigest, wire::WireError> decode_sync_digest(ByteSpan body);

} // namespace idpath::replication
