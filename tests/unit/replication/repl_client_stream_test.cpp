// The client against a scripted upstream: the signed-block transport (a primary answering
// below 2.8), and what a correct server never sends: forged challenges, bad signatures, cut
// streams, unsigned streams, out-of-order transactions, an upstream without digests.

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <filesystem>
#include <mutex>

#include "controlplane/replication/message_io.hpp"
#include "controlplane/replication/repl_client.hpp"
#include "controlplane/replication/repl_state.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "controlplane/replication/repl_wire.hpp"
#include "dataplane/wire/constants.hpp"
#include "tests/unit/replication/client_test_support.hpp"
#include "tests/unit/replication/fake_sink.hpp"
#include "tests/unit/replication/scripted_upstream.hpp"

namespace idpath::replication {
namespace {

using testing::admin_key;
using testing::counter;
using testing::eventually;
using testing::FakeSink;
using testing::reply_to;
using testing::ScriptedUpstream;
using testing::server_key;
using testing::SignedStreamWriter;
using testing::status;

constexpr std::uint32_t kSuccess = 1;

std::vector<std::uint8_t> sha256(ByteSpan data)
{
    std::vector<std::uint8_t> out(32);
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr);
    return out;
}

std::string last_error(const ReplicationClient& c)
{
    return status(c)["last_error"].get<std::string>();
}

class Scripted : public testing::ScriptedClientTest {
protected:
    /// A state the client resumes from: its next round is a txn pull.
    void resume_state(const socket::Endpoint& upstream, std::uint64_t last_txn)
    {
        ReplState s;
        s.upstream = upstream.to_string();
        s.last_txn_id = last_txn;
        s.last_query_date_ms = 1700000000000;
        ASSERT_TRUE(write_state(state_, s));
    }

    FakeSink sink_;
};

/// A signed dump of three handles, a homed prefix and the position; `bad` picks the block whose
/// signature is corrupted (-1: none), `cut` stops before the end record.
std::vector<std::uint8_t> signed_dump(int bad = -1, bool cut = false)
{
    SignedStreamWriter w(server_key());
    int n = 0;
    w.block([](auto& out) { encode_dump_header(out); }, bad == n++);
    w.block([](auto& out) { encode_dump_info(DumpInfo{1700000000500, 77}, out); }, bad == n++);
    for (int i = 0; i < 3; ++i) {
        const auto rec = testing::simple_record("https://example.org/" + std::to_string(i));
        w.block([&](auto& out) { encode_dump_handle("88.100.1/s" + std::to_string(i), rec.count, rec.encoded, out); },
                bad == n++);
    }
    w.block([](auto& out) { encode_dump_homed_prefix("0.NA/88.100.1", out); }, bad == n++);
    if (!cut)
        w.bare([](auto& out) { encode_dump_done(out); });
    return w.out;
}

/// Answers with RC_SUCCESS at once (no challenge), then `stream`.
ScriptedUpstream::Script success_then(std::vector<std::uint8_t> stream)
{
    return [stream](int, const ReceivedMessage& req, crypto::ByteStream& s) {
        auto m = reply_to(req, kSuccess, {});
        m.insert(m.end(), stream.begin(), stream.end());
        (void)s.write_all(m, 3000);
    };
}

TEST_F(Scripted, SignedBlockDumpIsVerifiedAndApplied)
{
    ScriptedUpstream up(success_then(signed_dump()));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    EXPECT_EQ(sink_.records().size(), 3u);
    EXPECT_EQ(sink_.homed(), (std::set<std::string>{"88.100.1"}));
    ASSERT_TRUE(eventually([&] { return status(client)["last_txn_id"] == 77; })) << client.status_json();
    auto s = read_state(state_);
    ASSERT_TRUE(s && s->has_value());
    EXPECT_EQ((*s)->last_query_date_ms, 1700000000500);
}

TEST_F(Scripted, BadBlockSignatureAbortsTheDump)
{
    ScriptedUpstream up(success_then(signed_dump(3)));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "stream_errors") >= 1; })) << client.status_json();
    EXPECT_NE(last_error(client).find("bad block signature at offset"), std::string::npos) << last_error(client);
    client.stop();
    EXPECT_GE(sink_.dump_begins(), 1);
    EXPECT_EQ(sink_.dump_aborts(), sink_.dump_begins());
    EXPECT_EQ(sink_.dump_commits(), 0);
    EXPECT_TRUE(sink_.records().empty());
    EXPECT_FALSE(std::filesystem::exists(state_));
}

TEST_F(Scripted, StreamCutBeforeItsEndAbortsTheDump)
{
    ScriptedUpstream up(success_then(signed_dump(-1, true)));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "stream_errors") >= 1; })) << client.status_json();
    EXPECT_NE(last_error(client).find("ended before its end record"), std::string::npos) << last_error(client);
    client.stop();
    EXPECT_EQ(sink_.dump_aborts(), sink_.dump_begins());
    EXPECT_EQ(sink_.dump_commits(), 0);
    EXPECT_TRUE(sink_.records().empty());
}

TEST_F(Scripted, SignedBlocksAreRefusedUnlessAllowed)
{
    ScriptedUpstream up(success_then(signed_dump()));
    ClientOptions o = options(up.endpoint);
    o.allow_signed_blocks = false;
    ReplicationClient client(o, sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return status(client)["counters"]["stream_errors"].get<int>() > 0; }))
        << client.status_json();
    EXPECT_NE(last_error(client).find("signed-block stream refused"), std::string::npos) << last_error(client);
    EXPECT_EQ(sink_.dump_commits(), 0u);
    EXPECT_TRUE(sink_.records().empty());
}

TEST_F(Scripted, UnsignedStreamIsRefused)
{
    ScriptedUpstream up(success_then({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2}));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "stream_errors") >= 1; })) << client.status_json();
    EXPECT_NE(last_error(client).find("unsigned stream refused"), std::string::npos) << last_error(client);
    client.stop();
    EXPECT_EQ(sink_.dump_begins(), 0);
}

TEST_F(Scripted, ChallengeForAnotherRequestIsNotAnswered)
{
    ScriptedUpstream up([](int, const ReceivedMessage& req, crypto::ByteStream& s) {
        Challenge c;
        c.request_digest = sha256(as_bytes("some other request"));
        c.nonce.assign(16, 0x5a);
        (void)s.write_all(reply_to(req, static_cast<std::uint32_t>(wire::ResponseCode::AuthenticationNeeded),
                                   encode_challenge(c), 9),
                          3000);
    });
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "auth_failures") >= 2; })) << client.status_json();
    EXPECT_NE(last_error(client).find("challenge does not match our request"), std::string::npos)
        << last_error(client);
    client.stop();
    // Never answered: one connection per round.
    EXPECT_EQ(static_cast<std::uint64_t>(up.connections()), counter(client, "rounds"));
}

TEST_F(Scripted, ChallengeAnsweredOnASecondConnectionWithItsSession)
{
    std::mutex mutex; // the upstream's thread writes what the test reads
    Challenge sent;
    ChallengeAnswer answer;
    std::uint32_t answer_session = 0;
    ScriptedUpstream up([&](int index, const ReceivedMessage& req, crypto::ByteStream& s) {
        std::lock_guard lock(mutex);
        if (index == 0) {
            Challenge c;
            c.request_digest = sha256(header_and_body(req.message));
            c.nonce = crypto::random_bytes(16);
            const auto hdr = wire::decode_header(req.message);
            EXPECT_TRUE(hdr && !hdr->has(wire::opflag::kCertify));
            EXPECT_EQ(req.envelope.session_id, 0u);
            (void)s.write_all(reply_to(req, static_cast<std::uint32_t>(wire::ResponseCode::AuthenticationNeeded),
                                       encode_challenge(c), 4242),
                              3000);
            sent = c;
            return;
        }
        if (index == 1) {
            answer_session = req.envelope.session_id;
            auto body = header_and_body(req.message).subspan(wire::kHeaderSize);
            auto a = decode_challenge_answer(body);
            if (a)
                answer = *a;
            auto m = reply_to(req, kSuccess, {});
            const auto stream = signed_dump();
            m.insert(m.end(), stream.begin(), stream.end());
            (void)s.write_all(m, 3000);
        }
    });
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    client.stop();
    std::lock_guard lock(mutex);
    EXPECT_EQ(answer_session, 4242u);
    EXPECT_EQ(answer.auth_type, "HS_PUBKEY");
    EXPECT_EQ(answer.admin_handle, "0.NA/88.100.1");
    EXPECT_EQ(answer.admin_index, 300u);
    auto pr = decode_pubkey_response(answer.signed_response);
    ASSERT_TRUE(pr);
    EXPECT_EQ(pr->algorithm, "SHA-256");
    EXPECT_TRUE(crypto::verify(admin_key(), "SHA-256", challenge_signing_input(sent), pr->signature));
}

TEST_F(Scripted, OutOfOrderTransactionsAreAStreamErrorAndApplyNothing)
{
    SignedStreamWriter w(server_key());
    w.block([](auto& out) { encode_txn_header(TxnStreamHeader{1, kStatusSendingTransactions}, out); });
    for (std::uint64_t id : {11u, 13u, 12u}) {
        journal::Entry e;
        e.txn_id = id;
        e.date_ms = 1700000000000 + static_cast<std::int64_t>(id);
        e.action = journal::Action::Delete;
        e.handle = "88.100.1/x" + std::to_string(id);
        w.block([&](auto& out) { encode_txn_record(e, out); });
    }
    w.block([](auto& out) { encode_txn_end(TxnEnd{1700000009999}, out); });
    ScriptedUpstream up(success_then(w.out));
    resume_state(up.endpoint, 10);
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(true));
    ASSERT_TRUE(eventually([&] { return counter(client, "stream_errors") >= 1; })) << client.status_json();
    EXPECT_NE(last_error(client).find("transaction 12 after 13"), std::string::npos) << last_error(client);
    client.stop();
    EXPECT_EQ(sink_.applies(), 0);
    EXPECT_EQ(sink_.dump_begins(), 0);
    auto s = read_state(state_);
    ASSERT_TRUE(s && s->has_value());
    EXPECT_EQ((*s)->last_txn_id, 10u);
}

TEST_F(Scripted, SignedTransactionsAdvanceTheState)
{
    SignedStreamWriter w(server_key());
    w.block([](auto& out) { encode_txn_header(TxnStreamHeader{1, kStatusSendingTransactions}, out); });
    for (std::uint64_t id : {11u, 12u}) {
        journal::Entry e;
        e.txn_id = id;
        e.date_ms = 1700000000000 + static_cast<std::int64_t>(id);
        e.action = journal::Action::Home;
        e.handle = "88.100." + std::to_string(id);
        w.block([&](auto& out) { encode_txn_record(e, out); });
    }
    w.block([](auto& out) { encode_txn_end(TxnEnd{1700000009999}, out); });
    ScriptedUpstream up(success_then(w.out));
    resume_state(up.endpoint, 10);
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_TRUE(client.start(true));
    ASSERT_TRUE(eventually([&] { return sink_.applied_ids().size() == 2; })) << client.status_json();
    ASSERT_TRUE(eventually([&] { return status(client)["last_txn_id"] == 12; })) << client.status_json();
    client.stop();
    EXPECT_EQ(sink_.homed(), (std::set<std::string>{"88.100.11", "88.100.12"}));
    auto s = read_state(state_);
    ASSERT_TRUE(s && s->has_value());
    EXPECT_EQ((*s)->last_txn_id, 12u);
    EXPECT_EQ((*s)->last_query_date_ms, 1700000009999);
}

TEST_F(Scripted, UpstreamWithoutDigests)
{
    ScriptedUpstream up([](int, const ReceivedMessage& req, crypto::ByteStream& s) {
        (void)s.write_all(reply_to(req, static_cast<std::uint32_t>(wire::ResponseCode::OperationNotSupported), {}),
                          3000);
    });
    ReplicationClient client(options(up.endpoint), sink_);
    auto r = client.sync_status_json();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "upstream does not serve digests (rc 5)");
}

} // namespace
} // namespace idpath::replication
