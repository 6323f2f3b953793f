// The replication server against a hand-written mirror (test_client.hpp): the 402/200
// authentication, the replies and the streams (TLS and signed blocks), and the bounds.

#include "controlplane/replication/repl_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "controlplane/replication/credential_sign.hpp"
#include "dataplane/wire/credential.hpp"
#include "dataplane/wire/response.hpp"
#include "tests/unit/replication_server/fake_source.hpp"
#include "tests/unit/replication_server/test_client.hpp"

namespace idpath::replication {
namespace {

using testing::Admin;
using testing::FakeRecord;
using testing::FakeSource;
using testing::Request;

constexpr const char* kAdminHandle = "0.NA/88.100.1";

std::filesystem::path temp_dir()
{
    static const std::filesystem::path dir = [] {
        std::string tmpl = (std::filesystem::temp_directory_path() / "repl_server_test.XXXXXX").string();
        const char* made = ::mkdtemp(tmpl.data());
        if (!made)
            std::abort(); // never fall back to a shared directory: TearDown removes this one
        return std::filesystem::path(made);
    }();
    return dir;
}

/// Removes the key files at exit.
class TempDirCleanup : public ::testing::Environment {
public:
    void TearDown() override
    {
        std::error_code ec;
        std::filesystem::remove_all(temp_dir(), ec);
    }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

/// An RSA key pair written as PEM files (private PKCS#8, public SPKI) and loaded back.
struct KeyPair {
    crypto::Key priv;
    crypto::Key pub;
    std::filesystem::path priv_file;
    std::filesystem::path pub_file;
};

KeyPair make_key(const std::string& name)
{
    KeyPair k;
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    if (!pkey)
        std::abort();
    k.priv_file = temp_dir() / (name + ".pem");
    k.pub_file = temp_dir() / (name + ".pub.pem");
    BIO* b = BIO_new_file(k.priv_file.c_str(), "w");
    PEM_write_bio_PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    BIO_free(b);
    b = BIO_new_file(k.pub_file.c_str(), "w");
    PEM_write_bio_PUBKEY(b, pkey);
    BIO_free(b);
    EVP_PKEY_free(pkey);
    auto priv = crypto::load_private_key(k.priv_file);
    auto pub = crypto::load_public_key(k.pub_file);
    if (!priv || !pub)
        std::abort();
    k.priv = *priv;
    k.pub = *pub;
    return k;
}

// Key generation is slow: one set per process.
const KeyPair& server_key()
{
    static const KeyPair k = make_key("server");
    return k;
}
const KeyPair& admin_key()
{
    static const KeyPair k = make_key("admin");
    return k;
}
const KeyPair& other_key()
{
    static const KeyPair k = make_key("other");
    return k;
}

std::filesystem::path write_secret(const std::string& name, const std::string& text)
{
    const auto path = temp_dir() / name;
    std::ofstream(path) << text;
    return path;
}

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

class ReplServerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        source.populate("88.100.1", 40);
        source.homed = {"88.100.1", "88.100.2"};
    }
    void TearDown() override
    {
        if (server)
            server->stop();
    }

    ServerOptions default_options()
    {
        ServerOptions o;
        o.listen = {*socket::parse_endpoint("127.0.0.1:0", 0)};
        o.server_key = server_key().priv;
        o.admins.push_back(AdminSpec{300, kAdminHandle, admin_key().pub_file});
        o.io_timeout_ms = 5000;
        return o;
    }
    void start(ServerOptions o)
    {
        server = std::make_unique<ReplicationServer>(std::move(o), source);
        auto r = server->start();
        ASSERT_TRUE(r) << r.error();
        ASSERT_EQ(server->bound().size(), 1u);
        ep = server->bound()[0];
    }
    void start() { start(default_options()); }

    Admin admin() const
    {
        Admin a;
        a.handle = kAdminHandle;
        a.index = 300;
        a.key = admin_key().priv;
        return a;
    }
    nlohmann::json stats() const { return nlohmann::json::parse(server->stats_json()); }
    /// Counters the connection thread updates after its last write: the client may see the
    /// end of the stream first.
    bool wait_stat(const char* name, std::uint64_t want) const
    {
        for (int i = 0; i < 300; ++i) {
            if (stats()[name] == want)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return stats()[name] == want;
    }

    static Request dump_request(ShardFilter shard = {})
    {
        Request r;
        r.opcode = 1002;
        r.body = encode_dump_handles_request(DumpHandlesRequest{shard, std::nullopt, 0});
        return r;
    }
    static Request txn_request(std::uint64_t after, std::int64_t date = 123456, ShardFilter shard = {})
    {
        Request r;
        r.opcode = 1001;
        RetrieveTxnRequest t;
        t.last_txn_id = after;
        t.last_query_date_ms = date;
        t.shard = shard;
        r.body = encode_retrieve_txn_request(t);
        return r;
    }

    /// The handles a dump carried, checking its framing on the way.
    std::map<std::string, FakeRecord> dumped(const std::vector<DumpItem>& items, std::set<std::string>* prefixes)
    {
        std::map<std::string, FakeRecord> out;
        EXPECT_FALSE(items.empty());
        EXPECT_TRUE(std::holds_alternative<DumpInfo>(items.front()));
        if (auto* info = std::get_if<DumpInfo>(&items.front())) {
            EXPECT_EQ(info->last_txn_id, source.last_txn());
        }
        EXPECT_TRUE(std::holds_alternative<DumpDone>(items.back()));
        for (const auto& item : items) {
            if (auto* h = std::get_if<DumpHandle>(&item)) {
                EXPECT_FALSE(out.count(h->handle)) << h->handle;
                out[h->handle] = FakeRecord{h->values.count, h->values.encoded};
            } else if (auto* p = std::get_if<DumpHomedPrefix>(&item)) {
                if (prefixes)
                    prefixes->insert(p->prefix_handle);
            }
        }
        return out;
    }

    FakeSource source;
    std::unique_ptr<ReplicationServer> server;
    socket::Endpoint ep;
};

TEST(ParseAdminSpec, AcceptsIndexHandleAndOptionalKeyFile)
{
    auto a = parse_admin_spec("300:0.NA/88.100.1");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->index, 300u);
    EXPECT_EQ(a->handle, "0.NA/88.100.1");
    EXPECT_TRUE(a->key_file.empty());

    auto b = parse_admin_spec("  301:0.NA/88.100.1   /etc/idpath/admin.pub ");
    ASSERT_TRUE(b) << b.error();
    EXPECT_EQ(b->index, 301u);
    EXPECT_EQ(b->handle, "0.NA/88.100.1");
    EXPECT_EQ(b->key_file, "/etc/idpath/admin.pub");
}

TEST(ParseAdminSpec, RefusesMalformedSpecs)
{
    for (const char* bad : {"", "0.NA/88.100.1", ":0.NA/x", "300:", "x3:0.NA/x", "99999999999:0.NA/x"}) {
        auto r = parse_admin_spec(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), "admin '" + std::string(bad) + "': expected INDEX:HANDLE [KEYFILE]");
    }
}

TEST_F(ReplServerTest, ShardedDumpOverTlsCoversTheTableOnce)
{
    start();
    std::map<std::string, FakeRecord> all;
    for (std::uint32_t n = 0; n < 2; ++n) {
        const ShardFilter shard{2, 2, n};
        auto auth = testing::authenticate(ep, dump_request(shard), admin());
        ASSERT_TRUE(auth) << auth.error();
        EXPECT_EQ(auth->challenge.header.response_code, 402u);
        EXPECT_EQ(auth->reply.header.response_code, 1u);
        EXPECT_EQ(auth->reply.envelope.request_id, 99u);
        EXPECT_EQ(auth->reply.envelope.session_id, auth->challenge.envelope.session_id);
        EXPECT_TRUE(auth->reply.header.has(wire::opflag::kAuthoritative));
        auto stream = testing::read_dump(std::move(auth->stream), server_key().pub);
        ASSERT_TRUE(stream) << stream.error();
        EXPECT_TRUE(stream->tls);
        std::set<std::string> prefixes;
        const auto half = dumped(stream->items, &prefixes);
        EXPECT_EQ(prefixes, (std::set<std::string>{"0.NA/88.100.1", "0.NA/88.100.2"}));
        for (const auto& [h, rec] : half) {
            EXPECT_TRUE(shard.contains(h)) << h;
            EXPECT_FALSE(all.count(h)) << h << " in both halves";
            all[h] = rec;
        }
        EXPECT_FALSE(half.empty());
    }
    EXPECT_EQ(all, source.records);
    EXPECT_TRUE(wait_stat("records_sent", 40));
    const auto s = stats();
    EXPECT_EQ(s["dumps"], 2);
    EXPECT_EQ(s["auth_ok"], 2);
    EXPECT_EQ(s["challenges_sent"], 2);
}

TEST_F(ReplServerTest, TxnPullSendsTheJournalAfterTheGivenId)
{
    journal::Entry home;
    home.txn_id = 41;
    home.date_ms = 1;
    home.action = journal::Action::Home;
    home.handle = "88.100.3";
    source.journal.push_back(home);
    start();
    auto auth = testing::authenticate(ep, txn_request(25), admin());
    ASSERT_TRUE(auth) << auth.error();
    ASSERT_EQ(auth->reply.header.response_code, 1u);
    EXPECT_EQ(auth->reply.body, encode_retrieve_txn_reply(false));
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    auto stream = testing::read_txns(std::move(auth->stream), server_key().pub);
    ASSERT_TRUE(stream) << stream.error();
    ASSERT_GE(stream->items.size(), 2u);
    const auto& header = std::get<TxnStreamHeader>(stream->items.front());
    EXPECT_EQ(header.status, kStatusSendingTransactions);
    std::vector<std::uint64_t> ids;
    for (const auto& item : stream->items)
        if (auto* t = std::get_if<TxnRecord>(&item)) {
            ids.push_back(t->txn_id);
            const auto& want = source.journal[t->txn_id - 1];
            const bool na = want.action == journal::Action::Home || want.action == journal::Action::Unhome;
            EXPECT_EQ(t->handle, na ? prefix_handle_of(want.handle) : want.handle);
            EXPECT_EQ(t->action, want.action);
            EXPECT_EQ(t->values, want.values);
        }
    std::vector<std::uint64_t> want_ids;
    for (std::uint64_t i = 26; i <= 41; ++i)
        want_ids.push_back(i);
    EXPECT_EQ(ids, want_ids);
    EXPECT_GE(std::get<TxnEnd>(stream->items.back()).date_ms, before - 60000);
    EXPECT_TRUE(wait_stat("txn_pulls", 1));
}

TEST_F(ReplServerTest, TxnPullOfAShardKeepsHomeTransactions)
{
    journal::Entry home;
    home.txn_id = 41;
    home.action = journal::Action::Home;
    home.handle = "88.100.3";
    source.journal.push_back(home);
    start();
    const ShardFilter shard{2, 2, 1};
    auto auth = testing::authenticate(ep, txn_request(0, 0, shard), admin());
    ASSERT_TRUE(auth) << auth.error();
    auto stream = testing::read_txns(std::move(auth->stream), server_key().pub);
    ASSERT_TRUE(stream) << stream.error();
    std::size_t handles = 0;
    bool saw_home = false;
    for (const auto& item : stream->items)
        if (auto* t = std::get_if<TxnRecord>(&item)) {
            if (t->action == journal::Action::Home) {
                EXPECT_EQ(t->handle, "0.NA/88.100.3");
                saw_home = true;
            }
            else {
                EXPECT_TRUE(shard.contains(t->handle)) << t->handle;
                ++handles;
            }
        }
    EXPECT_TRUE(saw_home);
    EXPECT_GT(handles, 0u);
    EXPECT_LT(handles, 40u);
}

TEST_F(ReplServerTest, TxnPullAsksForARedumpWhenTheJournalCannotCoverIt)
{
    source.force_redump = true;
    start();
    auto auth = testing::authenticate(ep, txn_request(3, 777777), admin());
    ASSERT_TRUE(auth) << auth.error();
    ASSERT_EQ(auth->reply.header.response_code, 1u);
    auto stream = testing::read_txns(std::move(auth->stream), server_key().pub);
    ASSERT_TRUE(stream) << stream.error();
    ASSERT_EQ(stream->items.size(), 2u);
    EXPECT_EQ(std::get<TxnStreamHeader>(stream->items[0]).status, kStatusNeedToRedump);
    EXPECT_EQ(std::get<TxnEnd>(stream->items[1]).date_ms, 777777);
    EXPECT_TRUE(wait_stat("redumps_requested", 1));
}

TEST_F(ReplServerTest, SecretKeyFromFileAuthenticates)
{
    ServerOptions o = default_options();
    o.admins = {AdminSpec{301, kAdminHandle, write_secret("secret", "correct horse battery\n")}};
    start(std::move(o));
    Admin a;
    a.auth_type = "HS_SECKEY";
    a.handle = "0.na/88.100.1"; // compared case-insensitively
    a.index = 301;
    a.secret = bytes_of("correct horse battery");
    Request r;
    r.opcode = 1000;
    auto auth = testing::authenticate(ep, r, a);
    ASSERT_TRUE(auth) << auth.error();
    ASSERT_EQ(auth->reply.header.response_code, 1u);
    auto next = decode_next_txn_id(auth->reply.body);
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, 41u);
}

TEST_F(ReplServerTest, KeysFromTheTableAuthenticate)
{
    source.admin_values[{kAdminHandle, 300}] = crypto::public_key_record(admin_key().pub);
    source.admin_values[{kAdminHandle, 301}] = bytes_of("table secret");
    ServerOptions o = default_options();
    o.admins = {AdminSpec{300, kAdminHandle, {}}, AdminSpec{301, kAdminHandle, {}}};
    start(std::move(o));

    Request r;
    r.opcode = kOpSyncDigest;
    r.body = encode_sync_digest_request(ShardFilter{2, 2, 0});
    auto pub = testing::authenticate(ep, r, admin());
    ASSERT_TRUE(pub) << pub.error();
    ASSERT_EQ(pub->reply.header.response_code, 1u);
    auto digest = decode_sync_digest(pub->reply.body);
    ASSERT_TRUE(digest);
    const SyncDigest want = source.digest(ShardFilter{2, 2, 0});
    EXPECT_EQ(digest->records, want.records);
    EXPECT_EQ(digest->buckets, want.buckets);
    EXPECT_EQ(digest->txn_id, want.txn_id);

    Admin sec;
    sec.auth_type = "HS_SECKEY";
    sec.handle = kAdminHandle;
    sec.index = 301;
    sec.secret = bytes_of("table secret");
    auto s = testing::authenticate(ep, r, sec);
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->reply.header.response_code, 1u);

    sec.secret = bytes_of("wrong secret");
    s = testing::authenticate(ep, r, sec);
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->reply.header.response_code, 403u);
}

TEST_F(ReplServerTest, WrongKeyIsRefused)
{
    start();
    Admin a = admin();
    a.key = other_key().priv;
    auto auth = testing::authenticate(ep, dump_request(), a);
    ASSERT_TRUE(auth) << auth.error();
    EXPECT_EQ(auth->reply.header.response_code, 403u);
    EXPECT_TRUE(wait_stat("auth_failed", 1));
    EXPECT_EQ(stats()["dumps"], 0);
}

TEST_F(ReplServerTest, UnknownAdminIsRefused)
{
    start();
    Admin a = admin();
    a.index = 200;
    auto auth = testing::authenticate(ep, dump_request(), a);
    ASSERT_TRUE(auth) << auth.error();
    EXPECT_EQ(auth->reply.header.response_code, 400u);
    a = admin();
    a.handle = "0.NA/88.100.9";
    auth = testing::authenticate(ep, dump_request(), a);
    ASSERT_TRUE(auth) << auth.error();
    EXPECT_EQ(auth->reply.header.response_code, 400u);
}

TEST_F(ReplServerTest, UnknownAuthTypeIsRefused)
{
    start();
    Admin a = admin();
    a.auth_type = "HS_FOO";
    auto auth = testing::authenticate(ep, dump_request(), a);
    ASSERT_TRUE(auth) << auth.error();
    EXPECT_EQ(auth->reply.header.response_code, 404u);
}

TEST_F(ReplServerTest, AnswerToAnUnknownSessionTimesOut)
{
    start();
    Request r;
    r.opcode = 200;
    r.session_id = 12345;
    r.body = encode_challenge_answer(ChallengeAnswer{"HS_PUBKEY", kAdminHandle, 300, {0, 0, 0, 0}});
    auto reply = testing::exchange(ep, r);
    ASSERT_TRUE(reply) << reply.error();
    EXPECT_EQ(reply->header.response_code, 405u);
    EXPECT_TRUE(reply->body.empty());
}

TEST_F(ReplServerTest, AChallengeIsAnsweredOnce)
{
    start();
    Request r;
    r.opcode = 1000;
    auto c = testing::exchange(ep, r);
    ASSERT_TRUE(c) << c.error();
    ASSERT_EQ(c->header.response_code, 402u);
    auto ch = decode_challenge(c->body);
    ASSERT_TRUE(ch);
    Request answer;
    answer.opcode = 200;
    answer.session_id = c->envelope.session_id;
    answer.body = encode_challenge_answer(testing::answer_for(admin(), *ch, 2, 11));
    auto first = testing::exchange(ep, answer);
    ASSERT_TRUE(first) << first.error();
    EXPECT_EQ(first->header.response_code, 1u);
    auto again = testing::exchange(ep, answer);
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ(again->header.response_code, 405u);
}

TEST_F(ReplServerTest, RequestInAnUnknownSessionIsRefused)
{
    start();
    Request r = dump_request();
    r.session_id = 4242;
    auto reply = testing::exchange(ep, r);
    ASSERT_TRUE(reply) << reply.error();
    EXPECT_EQ(reply->header.response_code, 500u);
}

TEST_F(ReplServerTest, OtherOpcodesAreNotSupported)
{
    start();
    Request r;
    r.opcode = 1; // resolution
    r.body = {0, 0, 0, 3, 'a', '/', 'b', 0, 0, 0, 0, 0, 0, 0, 0};
    auto reply = testing::exchange(ep, r);
    ASSERT_TRUE(reply) << reply.error();
    EXPECT_EQ(reply->header.response_code, 5u);
    auto err = wire::decode_error_body(reply->body);
    ASSERT_TRUE(err);
    EXPECT_FALSE(err->message.empty());
}

TEST_F(ReplServerTest, ProtocolBelow28GetsSignedBlocks)
{
    start();
    Request r = dump_request();
    r.major = 2;
    r.minor = 7;
    r.suggested_major = 2;
    r.suggested_minor = 7;
    auto auth = testing::authenticate(ep, r, admin());
    ASSERT_TRUE(auth) << auth.error();
    ASSERT_EQ(auth->reply.header.response_code, 1u);
    auto stream = testing::read_dump(std::move(auth->stream), server_key().pub);
    ASSERT_TRUE(stream) << stream.error();
    EXPECT_FALSE(stream->tls);
    // DumpInfo, 40 handles, 2 prefixes; not the final 0xff. The header's block is signed too,
    // but DumpStreamDecoder returns no item for it, so the client cannot count it.
    EXPECT_EQ(stream->signatures_verified, 43u);
    EXPECT_EQ(dumped(stream->items, nullptr), source.records);
}

TEST_F(ReplServerTest, SignedBlocksByAnotherKeyDoNotVerify)
{
    start();
    Request r = dump_request();
    r.minor = 7;
    auto auth = testing::authenticate(ep, r, admin());
    ASSERT_TRUE(auth) << auth.error();
    auto stream = testing::read_dump(std::move(auth->stream), other_key().pub);
    ASSERT_FALSE(stream);
    EXPECT_THAT(stream.error(), ::testing::HasSubstr("signature"));
}

TEST_F(ReplServerTest, CertifiedRequestsGetSignedReplies)
{
    start();
    Request r;
    r.opcode = 1000;
    r.flags |= wire::opflag::kCertify | wire::opflag::kReturnDigest;
    auto auth = testing::authenticate(ep, r, admin());
    ASSERT_TRUE(auth) << auth.error();
    for (const testing::Reply* reply : {&auth->challenge, &auth->reply}) {
        ASSERT_FALSE(reply->credential.empty());
        auto cred = wire::decode_credential(reply->credential);
        ASSERT_TRUE(cred);
        EXPECT_EQ(as_string_view(cred->type), "HS_SIGNED");
        const std::string algorithm(as_string_view(cred->digest_algorithm));
        EXPECT_EQ(algorithm, "SHA-256");
        const auto data = signed_data(reply->envelope, cred->signer_index, reply->header_and_body);
        EXPECT_TRUE(crypto::verify(server_key().pub, algorithm, data, cred->signature));
        EXPECT_FALSE(crypto::verify(other_key().pub, algorithm, data, cred->signature));
        EXPECT_TRUE(reply->header.has(wire::opflag::kCertify));
        EXPECT_TRUE(reply->header.has(wire::opflag::kReturnDigest));
    }
    // The success reply: RD prefix (type 3 + SHA-256 of the original request), then int8.
    ASSERT_EQ(auth->reply.body.size(), 33u + 8u);
    EXPECT_EQ(auth->reply.body[0], 3);
    auto next = decode_next_txn_id(ByteSpan(auth->reply.body).subspan(33));
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, 41u);
    // An uncertified request gets no credential.
    Request plain;
    plain.opcode = 1000;
    auto c = testing::exchange(ep, plain);
    ASSERT_TRUE(c) << c.error();
    EXPECT_TRUE(c->credential.empty());
}

TEST_F(ReplServerTest, ChallengeCarriesTheRequestDigestAndAFreshSession)
{
    start();
    Request r = dump_request();
    const auto sent = testing::request_bytes(r);
    auto a = testing::exchange(ep, r);
    auto b = testing::exchange(ep, r);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->header.response_code, 402u);
    EXPECT_TRUE(a->header.has(wire::opflag::kReturnDigest));
    EXPECT_EQ(a->envelope.request_id, r.request_id);
    EXPECT_NE(a->envelope.session_id, 0u);
    EXPECT_NE(a->envelope.session_id, b->envelope.session_id);
    auto ca = decode_challenge(a->body);
    auto cb = decode_challenge(b->body);
    ASSERT_TRUE(ca && cb);
    EXPECT_EQ(ca->digest_type, 3);
    EXPECT_EQ(ca->nonce.size(), 16u);
    EXPECT_NE(ca->nonce, cb->nonce);
    EXPECT_EQ(ca->request_digest, cb->request_digest);
    EXPECT_EQ(ca->request_digest.size(), 32u);
    EXPECT_EQ(stats()["pending_challenges"], 2);
}

TEST_F(ReplServerTest, PendingChallengesAreBoundedAndExpire)
{
    ServerOptions o = default_options();
    o.max_pending_challenges = 2;
    o.challenge_ttl_ms = 400;
    start(std::move(o));
    std::vector<std::uint32_t> sessions;
    for (int i = 0; i < 3; ++i) {
        auto c = testing::exchange(ep, dump_request());
        ASSERT_TRUE(c) << c.error();
        sessions.push_back(c->envelope.session_id);
    }
    auto s = stats();
    EXPECT_EQ(s["pending_challenges"], 2);
    EXPECT_EQ(s["challenges_dropped"], 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    Request answer;
    answer.opcode = 200;
    answer.session_id = sessions.back();
    answer.body = encode_challenge_answer(ChallengeAnswer{"HS_PUBKEY", kAdminHandle, 300, {}});
    auto reply = testing::exchange(ep, answer);
    ASSERT_TRUE(reply) << reply.error();
    EXPECT_EQ(reply->header.response_code, 405u);
    EXPECT_EQ(stats()["pending_challenges"], 0);
}

TEST_F(ReplServerTest, ConnectionsBeyondTheLimitAreClosed)
{
    ServerOptions o = default_options();
    o.max_connections = 1;
    start(std::move(o));
    auto held = testing::connect_tcp(ep);
    ASSERT_TRUE(held);
    for (int i = 0; i < 200 && stats()["connections_open"] != 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(stats()["connections_open"], 1);
    auto refused = testing::connect_tcp(ep);
    ASSERT_TRUE(refused);
    std::uint8_t buf[16];
    auto got = refused->read_some(buf, 5000);
    EXPECT_TRUE(!got || *got == 0);
    EXPECT_TRUE(wait_stat("connections_refused", 1));
    held.reset();
    for (int i = 0; i < 200 && stats()["connections_open"] != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto c = testing::exchange(ep, dump_request());
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->header.response_code, 402u);
}

TEST_F(ReplServerTest, AStalledMirrorIsDropped)
{
    // ~24 MB of records: more than loopback socket buffers hold.
    for (int i = 0; i < 1200; ++i)
        source.records["88.100.1/big" + std::to_string(i)] = testing::simple_record(std::string(20000, 'x'));
    ServerOptions o = default_options();
    o.io_timeout_ms = 300;
    start(std::move(o));
    auto auth = testing::authenticate(ep, dump_request(), admin());
    ASSERT_TRUE(auth) << auth.error();
    ASSERT_EQ(auth->reply.header.response_code, 1u);
    std::uint8_t marker[4];
    ASSERT_TRUE(auth->stream->read_exact(marker, 5000));
    auto tls = crypto::tls_connect(std::move(auth->stream), server_key().pub, 5000);
    ASSERT_TRUE(tls) << tls.error();
    // ... and read nothing more.
    EXPECT_TRUE(wait_stat("stalled", 1));
    EXPECT_TRUE(wait_stat("connections_open", 0));
}

TEST_F(ReplServerTest, MalformedRequestsAreDroppedAndCounted)
{
    start();
    auto s = testing::connect_tcp(ep);
    ASSERT_TRUE(s);
    const std::vector<std::uint8_t> junk(20, 0xff);
    ASSERT_TRUE(s->write_all(junk, 1000));
    std::uint8_t buf[16];
    auto got = s->read_some(buf, 5000);
    EXPECT_TRUE(!got || *got == 0);
    Request bad = dump_request();
    bad.body = {1, 2};
    auto reply = testing::exchange(ep, bad);
    EXPECT_FALSE(reply);
    EXPECT_TRUE(wait_stat("malformed", 2));
}

TEST_F(ReplServerTest, StopClosesOpenConnections)
{
    start();
    auto held = testing::connect_tcp(ep);
    ASSERT_TRUE(held);
    for (int i = 0; i < 200 && stats()["connections_open"] != 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto t0 = std::chrono::steady_clock::now();
    server->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    server->stop(); // idempotent
}

TEST_F(ReplServerTest, StartReportsAnUnreadableKeyFile)
{
    ServerOptions o = default_options();
    o.admins = {AdminSpec{300, kAdminHandle, temp_dir() / "missing.pub"}};
    server = std::make_unique<ReplicationServer>(std::move(o), source);
    auto r = server->start();
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error(), ::testing::HasSubstr("missing.pub"));
}

} // namespace
} // namespace idpath::replication
