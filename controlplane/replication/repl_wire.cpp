#include "controlplane/replication/repl_wire.hpp"

#include "dataplane/base/byte_append.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/server_hash.hpp"

namespace idpath::replication {

namespace {

/// A JSON replication state is a few lines per source; a message cannot be larger anyway.
constexpr std::size_t kMaxStateJson = wire::kMaxMessageLength;
/// A sync digest has table::kDigestBuckets (64); anything far above that is not one.
constexpr std::uint32_t kMaxDigestBuckets = 4096;

void put_shard(std::vector<std::uint8_t>& out, const ShardFilter& f)
{
    append_u8(out, f.hash_type);
    append_be32(out, f.num_servers);
    append_be32(out, f.server_num);
}

ShardFilter read_shard(ByteReader& r) noexcept
{
    ShardFilter f;
    f.hash_type = r.u8();
    f.num_servers = r.u32();
    f.server_num = r.u32();
    return f;
}

std::vector<std::uint8_t> to_vector(ByteSpan b) { return {b.begin(), b.end()}; }

/// The error for a reader that failed or did not end where the structure does.
template <class T>
Result<T, wire::WireError> finish(const ByteReader& r, T value)
{
    if (!r.ok())
        return Err{wire::reader_error(r)};
    if (!r.at_end())
        return Err{wire::WireError::TrailingBytes};
    return value;
}

bool at_least_2_9(std::uint8_t major, std::uint8_t minor) noexcept
{
    // Major 5 is CNRI's marker for legacy 2.0 clients, not a newer protocol.
    if (major == 5)
        return false;
    return major > 2 || (major == 2 && minor >= 9);
}

std::size_t digest_size(std::uint8_t type) noexcept
{
    switch (static_cast<wire::DigestType>(type)) {
    case wire::DigestType::Md5: return 16;
    case wire::DigestType::Sha1: return 20;
    case wire::DigestType::Sha256: return 32;
    case wire::DigestType::LegacyMd5: break;
    }
    return 0;
}

} // namespace

bool ShardFilter::contains(std::string_view handle) const noexcept
{
    if (num_servers <= 1)
        return true;
    return wire::server_number(handle, hash_type, num_servers) == static_cast<std::int64_t>(server_num);
}

std::vector<std::uint8_t> encode_retrieve_txn_request(const RetrieveTxnRequest& r)
{
    std::vector<std::uint8_t> out;
    append_u8(out, r.mode);
    if (r.mode == 1) {
        append_string(out, r.replication_state_json);
    } else {
        append_be64(out, r.last_txn_id);
        append_be64(out, static_cast<std::uint64_t>(r.last_query_date_ms));
    }
    put_shard(out, r.shard);
    return out;
}

Result<RetrieveTxnRequest, wire::WireError> decode_retrieve_txn_request(ByteSpan body, std::uint8_t major,
                                                                       std::uint8_t minor)
{
    ByteReader r(body);
    RetrieveTxnRequest req;
    req.mode = at_least_2_9(major, minor) ? r.u8() : 0;
    if (req.mode == 1) {
        req.replication_state_json = std::string(as_string_view(r.string(kMaxStateJson)));
    } else if (req.mode == 0) {
        req.last_txn_id = r.u64();
        req.last_query_date_ms = static_cast<std::int64_t>(r.u64());
    } else if (r.ok()) {
        return Err{wire::WireError::BadField};
    }
    req.shard = read_shard(r);
    return finish(r, std::move(req));
}

std::vector<std::uint8_t> encode_dump_handles_request(const DumpHandlesRequest& r)
{
    std::vector<std::uint8_t> out;
    put_shard(out, r.shard);
    if (r.starting_point) {
        append_string(out, *r.starting_point);
        append_be32(out, r.starting_point_type);
    }
    return out;
}

Result<DumpHandlesRequest, wire::WireError> decode_dump_handles_request(ByteSpan body)
{
    ByteReader r(body);
    DumpHandlesRequest req;
    req.shard = read_shard(r);
    // The resume point is present only when octets remain, and then whole.
    if (r.ok() && !r.at_end()) {
        req.starting_point = std::string(as_string_view(r.string(wire::kMaxHandleLength)));
        req.starting_point_type = r.u32();
    }
    return finish(r, std::move(req));
}

std::vector<std::uint8_t> encode_challenge(const Challenge& c)
{
    std::vector<std::uint8_t> out;
    if (c.digest_type == static_cast<std::uint8_t>(wire::DigestType::LegacyMd5)) {
        // Before 2.1 there is no hash-type octet and the nonce comes first (research7 section 2).
        append_string(out, c.nonce);
        append_string(out, c.request_digest);
        return out;
    }
    append_u8(out, c.digest_type);
    append_bytes(out, c.request_digest);
    append_string(out, c.nonce);
    return out;
}

Result<Challenge, wire::WireError> decode_challenge(ByteSpan body)
{
    ByteReader r(body);
    Challenge c;
    // A legacy body starts with the nonce's int4 length, whose first octet is 0 for any nonce
    // below 16 MiB; the current form starts with hash type 1, 2 or 3.
    if (!body.empty() && body[0] == 0) {
        c.digest_type = 0;
        c.nonce = to_vector(r.string(wire::kMaxHandleLength));
        c.request_digest = to_vector(r.string(wire::kMaxHandleLength));
        return finish(r, std::move(c));
    }
    c.digest_type = r.u8();
    if (!r.ok())
        return Err{wire::reader_error(r)};
    const std::size_t n = digest_size(c.digest_type);
    if (n == 0)
        return Err{wire::WireError::BadField};
    c.request_digest = to_vector(r.bytes(n));
    c.nonce = to_vector(r.string(wire::kMaxHandleLength));
    return finish(r, std::move(c));
}

std::vector<std::uint8_t> encode_challenge_answer(const ChallengeAnswer& a)
{
    std::vector<std::uint8_t> out;
    append_string(out, a.auth_type);
    append_string(out, a.admin_handle);
    append_be32(out, a.admin_index);
    append_string(out, a.signed_response);
    return out;
}

Result<ChallengeAnswer, wire::WireError> decode_challenge_answer(ByteSpan body)
{
    ByteReader r(body);
    ChallengeAnswer a;
    a.auth_type = std::string(as_string_view(r.string(wire::kMaxHandleLength)));
    a.admin_handle = std::string(as_string_view(r.string(wire::kMaxHandleLength)));
    a.admin_index = r.u32();
    a.signed_response = to_vector(r.string(wire::kMaxArraySize));
    return finish(r, std::move(a));
}

std::vector<std::uint8_t> challenge_signing_input(const Challenge& c)
{
    std::vector<std::uint8_t> out;
    out.reserve(c.nonce.size() + c.request_digest.size());
    append_bytes(out, c.nonce);
    append_bytes(out, c.request_digest);
    return out;
}

std::vector<std::uint8_t> encode_pubkey_response(std::string_view algorithm, ByteSpan signature)
{
    std::vector<std::uint8_t> out;
    append_string(out, algorithm);
    append_string(out, signature);
    return out;
}

Result<PubkeyResponse, wire::WireError> decode_pubkey_response(ByteSpan signed_response)
{
    ByteReader r(signed_response);
    PubkeyResponse p;
    p.algorithm = std::string(as_string_view(r.string(wire::kMaxHandleLength)));
    p.signature = to_vector(r.string(wire::kMaxArraySize));
    return finish(r, std::move(p));
}

std::vector<std::uint8_t> encode_next_txn_id(std::uint64_t next_txn_id)
{
    std::vector<std::uint8_t> out;
    append_be64(out, next_txn_id);
    return out;
}

Result<std::uint64_t, wire::WireError> decode_next_txn_id(ByteSpan body)
{
    ByteReader r(body);
    const std::uint64_t id = r.u64();
    return finish(r, id);
}

std::vector<std::uint8_t> encode_retrieve_txn_reply(bool keep_alive)
{
    return {static_cast<std::uint8_t>(keep_alive ? 1 : 0)};
}

std::vector<std::uint8_t> encode_sync_digest_request(const ShardFilter& f)
{
    std::vector<std::uint8_t> out;
    put_shard(out, f);
    return out;
}

Result<ShardFilter, wire::WireError> decode_sync_digest_request(ByteSpan body)
{
    ByteReader r(body);
    const ShardFilter f = read_shard(r);
    return finish(r, f);
}

std::vector<std::uint8_t> encode_sync_digest(const SyncDigest& d)
{
    std::vector<std::uint8_t> out;
    append_be64(out, d.txn_id);
    append_be64(out, d.records);
    append_be32(out, static_cast<std::uint32_t>(d.buckets.size()));
    for (std::size_t i = 0; i < d.buckets.size(); ++i) {
        append_be64(out, d.buckets[i]);
        append_be64(out, i < d.bucket_records.size() ? d.bucket_records[i] : 0);
    }
    return out;
}

Result<SyncDigest, wire::WireError> decode_sync_digest(ByteSpan body)
{
    ByteReader r(body);
    SyncDigest d;
    d.txn_id = r.u64();
    d.records = r.u64();
    const std::uint32_t n = r.u32();
    if (!r.ok())
        return Err{wire::reader_error(r)};
    if (n > kMaxDigestBuckets)
        return Err{wire::WireError::LengthTooLarge};
    if (r.remaining() < std::size_t{n} * 16)
        return Err{wire::WireError::Truncated};
    d.buckets.reserve(n);
    d.bucket_records.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        d.buckets.push_back(r.u64());
        d.bucket_records.push_back(r.u64());
    }
    return finish(r, std::move(d));
}

} // namespace idpath::replication
