#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controlplane/replication/repl_wire.hpp"
#include "dataplane/base/bytes_text.hpp"
#include "dataplane/wire/server_hash.hpp"

namespace idpath::replication {
namespace {

using wire::WireError;

std::vector<std::uint8_t> from_hex(std::string_view h)
{
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

template <class T>
WireError error_of(const Result<T, WireError>& r)
{
    return r.error();
}

TEST(ReplWire, RetrieveTxnRequestExactBytes)
{
    // A 9.2 mirror's 1001 body at 2.11 (handle-protocol.md 1.15): mode 0, whole-handle hash, one server.
    RetrieveTxnRequest r;
    r.last_txn_id = 0x1234;
    r.last_query_date_ms = 1700000000000;
    r.shard = {2, 1, 0};
    const auto body = encode_retrieve_txn_request(r);
    EXPECT_EQ(hex(body), "00"
                         "0000000000001234"
                         "0000018bcfe56800"
                         "02"
                         "00000001"
                         "00000000");
    auto d = decode_retrieve_txn_request(body, 2, 11);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->mode, 0);
    EXPECT_EQ(d->last_txn_id, 0x1234u);
    EXPECT_EQ(d->last_query_date_ms, 1700000000000);
    EXPECT_EQ(d->shard, (ShardFilter{2, 1, 0}));
}

TEST(ReplWire, RetrieveTxnRequestBefore29HasNoModeOctet)
{
    RetrieveTxnRequest r;
    r.last_txn_id = 7;
    r.last_query_date_ms = 9;
    r.shard = {0, 4, 3};
    auto body = encode_retrieve_txn_request(r);
    body.erase(body.begin()); // the 2.8 form
    auto d = decode_retrieve_txn_request(body, 2, 8);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->last_txn_id, 7u);
    EXPECT_EQ(d->last_query_date_ms, 9);
    EXPECT_EQ(d->shard, (ShardFilter{0, 4, 3}));
    // The same octets at 2.9 lack one: the mode octet swallows the first id octet.
    EXPECT_FALSE(decode_retrieve_txn_request(body, 2, 9).ok());
    // Major 3 is newer than 2.9; major 5 is CNRI's legacy 2.0 marker.
    EXPECT_TRUE(decode_retrieve_txn_request(encode_retrieve_txn_request(r), 3, 0).ok());
    EXPECT_TRUE(decode_retrieve_txn_request(body, 5, 0).ok());
}

TEST(ReplWire, RetrieveTxnRequestMode1RoundTrip)
{
    RetrieveTxnRequest r;
    r.mode = 1;
    r.replication_state_json = R"({"a":1})";
    r.shard = {2, 2, 1};
    auto d = decode_retrieve_txn_request(encode_retrieve_txn_request(r), 2, 11);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->mode, 1);
    EXPECT_EQ(d->replication_state_json, r.replication_state_json);
    EXPECT_EQ(d->shard, r.shard);
}

TEST(ReplWire, RetrieveTxnRequestRejects)
{
    RetrieveTxnRequest r;
    auto body = encode_retrieve_txn_request(r);
    for (std::size_t n = 0; n < body.size(); ++n)
        EXPECT_EQ(error_of(decode_retrieve_txn_request(ByteSpan(body).first(n), 2, 11)), WireError::Truncated) << n;
    auto longer = body;
    longer.push_back(0);
    EXPECT_EQ(error_of(decode_retrieve_txn_request(longer, 2, 11)), WireError::TrailingBytes);
    auto bad_mode = body;
    bad_mode[0] = 2;
    EXPECT_EQ(error_of(decode_retrieve_txn_request(bad_mode, 2, 11)), WireError::BadField);
}

TEST(ReplWire, DumpHandlesRequestRoundTrip)
{
    DumpHandlesRequest r;
    r.shard = {2, 3, 2};
    auto body = encode_dump_handles_request(r);
    EXPECT_EQ(hex(body), "020000000300000002");
    auto d = decode_dump_handles_request(body);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->shard, r.shard);
    EXPECT_FALSE(d->starting_point);

    r.starting_point = "88.100.1/x";
    r.starting_point_type = 1;
    body = encode_dump_handles_request(r);
    d = decode_dump_handles_request(body);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->starting_point, "88.100.1/x");
    EXPECT_EQ(d->starting_point_type, 1u);
    for (std::size_t n = 0; n < body.size(); ++n) {
        if (n == 9) // the shard alone: a request without a resume point
            continue;
        EXPECT_EQ(error_of(decode_dump_handles_request(ByteSpan(body).first(n))), WireError::Truncated) << n;
    }
    body.push_back(1);
    EXPECT_EQ(error_of(decode_dump_handles_request(body)), WireError::TrailingBytes);
}

TEST(ReplWire, ChallengeExactBytesAndRoundTrip)
{
    Challenge c;
    c.digest_type = 3;
    c.request_digest.assign(32, 0xaa);
    c.nonce.assign(16, 0x11);
    const auto body = encode_challenge(c);
    EXPECT_EQ(hex(body), "03" + std::string(64, 'a') + "00000010" + std::string(32, '1'));
    auto d = decode_challenge(body);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->digest_type, 3);
    EXPECT_EQ(d->request_digest, c.request_digest);
    EXPECT_EQ(d->nonce, c.nonce);
    for (std::size_t n = 0; n < body.size(); ++n)
        EXPECT_FALSE(decode_challenge(ByteSpan(body).first(n)).ok()) << n;
    auto longer = body;
    longer.push_back(0);
    EXPECT_EQ(error_of(decode_challenge(longer)), WireError::TrailingBytes);
}

TEST(ReplWire, ChallengeEveryDigestType)
{
    const std::pair<std::uint8_t, std::size_t> types[] = {{1, 16}, {2, 20}, {3, 32}, {0, 16}};
    for (auto [type, size] : types) {
        Challenge c;
        c.digest_type = type;
        c.request_digest.assign(size, type);
        c.nonce.assign(16, 0x42);
        auto d = decode_challenge(encode_challenge(c));
        ASSERT_TRUE(d.ok()) << int(type);
        EXPECT_EQ(d->digest_type, type);
        EXPECT_EQ(d->request_digest, c.request_digest);
        EXPECT_EQ(d->nonce, c.nonce);
    }
    // Before 2.1: no type octet, the nonce first (research7 section 2).
    Challenge old;
    old.digest_type = 0;
    old.request_digest = {1, 2};
    old.nonce = {3};
    EXPECT_EQ(hex(encode_challenge(old)), "00000001" "03" "00000002" "0102");
    EXPECT_EQ(error_of(decode_challenge(from_hex("04" + std::string(64, '0')))), WireError::BadField);
    EXPECT_EQ(error_of(decode_challenge({})), WireError::Truncated);
}

TEST(ReplWire, ChallengeAnswerBodyAsHandleNetWritesIt)
{
    // research7 section 1: String "HS_PUBKEY" | String admin | int4 index | String(String "SHA-256" | String sig).
    const std::vector<std::uint8_t> sig(256, 0x5a);
    ChallengeAnswer a;
    a.auth_type = "HS_PUBKEY";
    a.admin_handle = "0.NA/88.100";
    a.admin_index = 300;
    a.signed_response = encode_pubkey_response("SHA-256", sig);
    EXPECT_EQ(a.signed_response.size(), 271u);
    const auto body = encode_challenge_answer(a);
    EXPECT_EQ(hex(ByteSpan(body).first(4 + 9 + 4 + 11 + 4 + 4 + 4 + 7 + 4)),
              "00000009" "48535f5055424b4559"            // HS_PUBKEY
              "0000000b" "302e4e412f38382e313030"        // 0.NA/88.100
              "0000012c"                                 // 300
              "0000010f"                                 // 271
              "00000007" "5348412d323536"                // SHA-256
              "00000100");                               // 256
    EXPECT_EQ(body.size(), 4 + 9 + 4 + 11 + 4 + 4 + 271u);

    auto d = decode_challenge_answer(body);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->auth_type, "HS_PUBKEY");
    EXPECT_EQ(d->admin_handle, "0.NA/88.100");
    EXPECT_EQ(d->admin_index, 300u);
    auto p = decode_pubkey_response(d->signed_response);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->algorithm, "SHA-256");
    EXPECT_EQ(p->signature, sig);

    for (std::size_t n = 0; n < body.size(); n += 7)
        EXPECT_EQ(error_of(decode_challenge_answer(ByteSpan(body).first(n))), WireError::Truncated) << n;
    auto longer = body;
    longer.push_back(0);
    EXPECT_EQ(error_of(decode_challenge_answer(longer)), WireError::TrailingBytes);
    auto resp = a.signed_response;
    resp.push_back(0);
    EXPECT_EQ(error_of(decode_pubkey_response(resp)), WireError::TrailingBytes);
}

TEST(ReplWire, SigningInputIsNonceThenDigest)
{
    Challenge c;
    c.request_digest = {9, 8, 7};
    c.nonce = {1, 2};
    EXPECT_EQ(challenge_signing_input(c), (std::vector<std::uint8_t>{1, 2, 9, 8, 7}));
}

TEST(ReplWire, SmallBodies)
{
    EXPECT_EQ(hex(encode_next_txn_id(0x0102030405060708)), "0102030405060708");
    auto id = decode_next_txn_id(encode_next_txn_id(42));
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, 42u);
    EXPECT_EQ(error_of(decode_next_txn_id(from_hex("01020304"))), WireError::Truncated);
    EXPECT_EQ(error_of(decode_next_txn_id(from_hex("010203040506070809"))), WireError::TrailingBytes);
    EXPECT_EQ(encode_retrieve_txn_reply(false), (std::vector<std::uint8_t>{0}));
    EXPECT_EQ(encode_retrieve_txn_reply(true), (std::vector<std::uint8_t>{1}));
}

TEST(ReplWire, SyncDigestRoundTrip)
{
    const ShardFilter f{2, 4, 1};
    EXPECT_EQ(hex(encode_sync_digest_request(f)), "020000000400000001");
    auto rf = decode_sync_digest_request(encode_sync_digest_request(f));
    ASSERT_TRUE(rf.ok());
    EXPECT_EQ(*rf, f);
    EXPECT_EQ(error_of(decode_sync_digest_request(from_hex("0200000004"))), WireError::Truncated);

    SyncDigest d;
    d.txn_id = 99;
    d.records = 1000;
    for (std::uint64_t i = 0; i < 64; ++i) {
        d.buckets.push_back(i * 0x9e3779b97f4a7c15ull);
        d.bucket_records.push_back(i);
    }
    const auto body = encode_sync_digest(d);
    EXPECT_EQ(body.size(), 8 + 8 + 4 + 64 * 16u);
    auto r = decode_sync_digest(body);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->txn_id, 99u);
    EXPECT_EQ(r->records, 1000u);
    EXPECT_EQ(r->buckets, d.buckets);
    EXPECT_EQ(r->bucket_records, d.bucket_records);
    for (std::size_t n = 0; n < body.size(); n += 5)
        EXPECT_EQ(error_of(decode_sync_digest(ByteSpan(body).first(n))), WireError::Truncated) << n;
    auto longer = body;
    longer.push_back(0);
    EXPECT_EQ(error_of(decode_sync_digest(longer)), WireError::TrailingBytes);
    EXPECT_EQ(error_of(decode_sync_digest(from_hex("00000000000000000000000000000000ffffffff"))),
              WireError::LengthTooLarge);
}

TEST(ReplWire, ShardFilterContains)
{
    EXPECT_TRUE((ShardFilter{2, 1, 0}).contains("88.100.1/x"));
    EXPECT_TRUE((ShardFilter{2, 0, 5}).contains("88.100.1/x"));
    // Every handle belongs to exactly one of the shards, the one server_number names.
    for (int i = 0; i < 50; ++i) {
        const std::string h = "88.100.1/item-" + std::to_string(i);
        int owners = 0;
        for (std::uint32_t s = 0; s < 3; ++s) {
            const bool in = ShardFilter{2, 3, s}.contains(h);
            owners += in;
            EXPECT_EQ(in, wire::server_number(h, 2, 3) == static_cast<std::int32_t>(s)) << h;
        }
        EXPECT_EQ(owners, 1) << h;
    }
}

} // namespace
} // namespace idpath::replication
