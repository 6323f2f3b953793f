// The mirror against an in-process upstream: a ReplicationServer over a FakeSource on
// 127.0.0.1, a ReplicationClient applying into a FakeSink. Real TCP, challenge, TLS.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "controlplane/crypto/keys.hpp"
#include "controlplane/replication/repl_client.hpp"
#include "controlplane/replication/repl_server.hpp"
#include "controlplane/replication/repl_state.hpp"
#include "tests/unit/fresh_dir.hpp"
#include "tests/unit/replication/client_test_support.hpp"
#include "tests/unit/replication/fake_sink.hpp"
#include "tests/unit/replication_server/fake_source.hpp"

namespace idpath::replication {
namespace {

using testing::FakeSink;
using testing::FakeSource;
using testing::admin_key;
using testing::other_key;
using testing::public_half;
using testing::server_key;
using testing::counter;
using testing::eventually;
using testing::status;
using Clock = std::chrono::steady_clock;

constexpr const char* kAdmin = "0.NA/88.100.1";
constexpr std::uint32_t kAdminIndex = 300;
constexpr std::uint32_t kSecretIndex = 301;

std::vector<std::uint8_t> secret()
{
    const std::string s = "replication secret";
    return {s.begin(), s.end()};
}

class Replication : public test_support::FreshDirTest {
protected:
    void SetUp() override
    {
        FreshDirTest::SetUp();

        source_.populate("88.100.1", 40);
        source_.homed = {"88.100.1"};
        source_.admin_values[{kAdmin, kAdminIndex}] = crypto::public_key_record(admin_key());
        source_.admin_values[{kAdmin, kSecretIndex}] = secret();

        ServerOptions so;
        so.listen = {*socket::parse_endpoint("127.0.0.1:0", 0)};
        so.server_key = server_key();
        so.admins = {AdminSpec{kAdminIndex, kAdmin, {}}, AdminSpec{kSecretIndex, kAdmin, {}}};
        so.io_timeout_ms = 5000;
        server_ = std::make_unique<ReplicationServer>(so, source_);
        auto started = server_->start();
        ASSERT_TRUE(started) << started.error();
        ASSERT_FALSE(server_->bound().empty());
        upstream_ = server_->bound().front();
    }

    void TearDown() override
    {
        if (server_)
            server_->stop();
        FreshDirTest::TearDown();
    }

    ClientOptions options() const
    {
        ClientOptions o;
        o.upstream = upstream_;
        o.upstream_key = public_half(server_key());
        o.admin_handle = kAdmin;
        o.admin_index = kAdminIndex;
        o.admin_key = admin_key();
        o.state_file = dir_ / "replication.state";
        o.interval_ms = 600000; // rounds after the first only through sync_now()
        o.io_timeout_ms = 5000;
        o.backoff_min_ms = 50;
        o.backoff_max_ms = 200;
        return o;
    }

    /// Appends `n` more creates, one update and one delete to the source's table and journal.
    void grow(int n)
    {
        auto lock = source_.lock();
        const std::int64_t date = 1700000100000 + static_cast<std::int64_t>(source_.journal.size());
        source_.populate("88.100.2." + std::to_string(source_.journal.size()), n, date);
        auto next = [&] { return source_.journal.back().txn_id + 1; };

        journal::Entry update;
        update.txn_id = next();
        update.date_ms = date + n;
        update.action = journal::Action::Update;
        update.handle = "88.100.1/h1";
        source_.records[update.handle] = testing::simple_record("https://example.org/updated", true);
        update.value_count = source_.records[update.handle].count;
        update.values = source_.records[update.handle].encoded;
        source_.journal.push_back(update);

        journal::Entry del;
        del.txn_id = next();
        del.date_ms = date + n + 1;
        del.action = journal::Action::Delete;
        del.handle = "88.100.1/h2";
        source_.records.erase(del.handle);
        source_.journal.push_back(del);
    }

    std::map<std::string, testing::FakeRecord> source_records()
    {
        auto lock = source_.lock();
        return source_.records;
    }

    std::uint64_t source_last_txn() { return source_.last_txn(); }

    FakeSource source_;
    FakeSink sink_;
    std::unique_ptr<ReplicationServer> server_;
    socket::Endpoint upstream_;
};

TEST_F(Replication, DumpThenTransactionsThenResume)
{
    {
        ReplicationClient client(options(), sink_);
        ASSERT_TRUE(client.start(true)); // no state file yet: a dump first
        ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
        EXPECT_EQ(sink_.records(), source_records());
        EXPECT_EQ(sink_.homed(), (std::set<std::string>{"88.100.1"}));
        ASSERT_TRUE(eventually([&] { return status(client)["state"] == "idle"; })) << client.status_json();
        EXPECT_EQ(status(client)["last_txn_id"], source_last_txn());
        EXPECT_EQ(counter(client, "dumps"), 1u);

        auto state = read_state(dir_ / "replication.state");
        ASSERT_TRUE(state && state->has_value());
        EXPECT_EQ((*state)->last_txn_id, source_last_txn());
        EXPECT_EQ((*state)->upstream, upstream_.to_string());
        EXPECT_GT((*state)->last_dump_unix, 0);

        grow(5);
        client.sync_now();
        ASSERT_TRUE(eventually([&] { return sink_.applied_ids().size() == 7; })) << client.status_json();
        EXPECT_EQ(sink_.records(), source_records());
        ASSERT_TRUE(eventually([&] { return status(client)["last_txn_id"] == source_last_txn(); }));
        EXPECT_EQ(counter(client, "txns_applied"), 7u);
        EXPECT_EQ(counter(client, "dumps"), 1u);

        auto sync = client.sync_status_json();
        ASSERT_TRUE(sync) << sync.error();
        const auto j = nlohmann::json::parse(*sync);
        EXPECT_TRUE(j["equal"].get<bool>()) << *sync;
        EXPECT_TRUE(j["in_sync"].get<bool>()) << *sync;
        EXPECT_EQ(j["upstream_txn_id"], source_last_txn());
        EXPECT_EQ(j["records"]["upstream"], j["records"]["local"]);
        client.stop();
    }

    // A restart with the state file: no dump, only what the upstream journaled since.
    const auto ids_before = sink_.applied_ids();
    const std::uint64_t resumed_from = source_last_txn();
    grow(3);
    ReplicationClient client(options(), sink_);
    ASSERT_TRUE(client.start(true));
    ASSERT_TRUE(eventually([&] { return sink_.applied_ids().size() == ids_before.size() + 5; }))
        << client.status_json();
    EXPECT_EQ(sink_.dump_begins(), 1);
    EXPECT_EQ(sink_.records(), source_records());
    const auto ids = sink_.applied_ids();
    for (std::size_t i = ids_before.size(); i < ids.size(); ++i)
        EXPECT_GT(ids[i], resumed_from);
}

TEST_F(Replication, BrokenDumpResumesAndTheLogReplaysTheChangesMadeMeanwhile)
{
    // Enough records that the first pieces leave the server's 64 KiB chunk before the stall.
    source_.populate("88.100.3", 3000);
    std::atomic<bool> stalled{false};
    source_.before_visit = [&](std::size_t piece) {
        if (piece != 2 || stalled.exchange(true))
            return;
        grow(5); // created, updated and deleted while the mirror waits: the txn log's part
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    };
    ClientOptions o = options();
    o.io_timeout_ms = 800;
    ReplicationClient client(o, sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    EXPECT_EQ(sink_.dump_begins(), 1);
    // One stall; a loaded machine may add a timeout of its own, which resumes as well.
    EXPECT_GE(counter(client, "dump_resumes"), 1u);
    EXPECT_GE(counter(client, "timeouts"), 1u);
    EXPECT_GE(nlohmann::json::parse(server_->stats_json())["dump_resumes"].get<int>(), 1);
    // The position is the first response's, from before the changes.
    ASSERT_TRUE(eventually([&] { return status(client)["state"] == "idle"; })) << client.status_json();
    EXPECT_EQ(status(client)["last_txn_id"], 3040u);

    client.sync_now();
    ASSERT_TRUE(eventually([&] { return status(client)["last_txn_id"] == source_last_txn(); }))
        << client.status_json();
    EXPECT_EQ(sink_.records(), source_records());
    client.stop();
}

TEST_F(Replication, SyncStatusShowsDifferingBuckets)
{
    ReplicationClient client(options(), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    sink_.put("88.100.1/stray", testing::simple_record("https://stray.example"));
    auto sync = client.sync_status_json();
    ASSERT_TRUE(sync) << sync.error();
    const auto j = nlohmann::json::parse(*sync);
    EXPECT_FALSE(j["equal"].get<bool>());
    EXPECT_FALSE(j["in_sync"].get<bool>());
    EXPECT_EQ(j["differing_buckets"].size(), 1u) << *sync;
    EXPECT_EQ(j["records"]["local"].get<std::uint64_t>(), j["records"]["upstream"].get<std::uint64_t>() + 1);
}

TEST_F(Replication, WrongAdminKeyIsAnAuthFailureAndTouchesNothing)
{
    ClientOptions o = options();
    o.admin_key = other_key();
    ReplicationClient client(o, sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "auth_failures") >= 2; })) << client.status_json();
    const auto s = status(client);
    EXPECT_NE(s["last_error"].get<std::string>().find("RC_AUTHENTICATION_FAILED"), std::string::npos) << s;
    EXPECT_GE(s["consecutive_failures"].get<int>(), 2);
    client.stop();
    EXPECT_EQ(sink_.dump_begins(), 0);
    EXPECT_TRUE(sink_.records().empty());
    EXPECT_FALSE(std::filesystem::exists(dir_ / "replication.state"));
}

TEST_F(Replication, SecretKeyAdmin)
{
    ClientOptions o = options();
    o.auth_type = "HS_SECKEY";
    o.admin_index = kSecretIndex;
    o.admin_key = {};
    o.admin_secret = secret();
    ReplicationClient client(o, sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    EXPECT_EQ(sink_.records(), source_records());

    client.stop();
    o.admin_secret.back() ^= 1;
    FakeSink fresh;
    ReplicationClient wrong(o, fresh);
    ASSERT_TRUE(wrong.start(false));
    ASSERT_TRUE(eventually([&] { return counter(wrong, "auth_failures") >= 1; })) << wrong.status_json();
    EXPECT_EQ(fresh.dump_begins(), 0);
}

TEST_F(Replication, UnknownAdminIsAnAuthFailure)
{
    ClientOptions o = options();
    o.admin_index = 302;
    ReplicationClient client(o, sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "auth_failures") >= 1; })) << client.status_json();
    EXPECT_NE(status(client)["last_error"].get<std::string>().find("RC_INVALID_ADMIN"), std::string::npos)
        << client.status_json();
    client.stop();
    EXPECT_EQ(sink_.dump_begins(), 0);
}

TEST_F(Replication, WrongUpstreamKeyFailsTlsAndTouchesNothing)
{
    ClientOptions o = options();
    o.upstream_key = public_half(other_key());
    ReplicationClient client(o, sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "stream_errors") >= 1; })) << client.status_json();
    const auto s = status(client);
    EXPECT_NE(s["last_error"].get<std::string>().find("TLS"), std::string::npos) << s;
    EXPECT_EQ(s["state"], "backoff");
    client.stop();
    EXPECT_EQ(sink_.dump_begins(), 0);
    EXPECT_TRUE(sink_.records().empty());
}

TEST_F(Replication, NeedToRedumpDumpsAgain)
{
    ReplicationClient client(options(), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    {
        auto lock = source_.lock();
        source_.force_redump = true;
    }
    grow(4);
    client.sync_now();
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 2; })) << client.status_json();
    EXPECT_EQ(sink_.records(), source_records());
    EXPECT_TRUE(sink_.applied_ids().empty());
    ASSERT_TRUE(eventually([&] { return status(client)["last_txn_id"] == source_last_txn(); }));
    EXPECT_EQ(counter(client, "dumps"), 2u);
}

TEST_F(Replication, StateForAnotherUpstreamMeansADump)
{
    ReplState other;
    other.upstream = "192.0.2.99:2641";
    other.last_txn_id = 5;
    ASSERT_TRUE(write_state(dir_ / "replication.state", other));
    ReplicationClient client(options(), sink_);
    ASSERT_TRUE(client.start(true));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    EXPECT_EQ(sink_.records(), source_records());
    ASSERT_TRUE(eventually([&] { return status(client)["last_txn_id"] == source_last_txn(); }));
    auto state = read_state(dir_ / "replication.state");
    ASSERT_TRUE(state && state->has_value());
    EXPECT_EQ((*state)->upstream, upstream_.to_string());
}

TEST_F(Replication, DamagedStateRefusesToStart)
{
    std::ofstream(dir_ / "replication.state") << "{not json";
    ReplicationClient client(options(), sink_);
    auto r = client.start(true);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("replication.state"), std::string::npos) << r.error();
}

TEST_F(Replication, ApplyFailureDoesNotAdvanceTheState)
{
    ReplicationClient client(options(), sink_);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return sink_.dump_commits() == 1; })) << client.status_json();
    ASSERT_TRUE(eventually([&] { return status(client)["state"] == "idle"; }));
    const auto before = status(client)["last_txn_id"].get<std::uint64_t>();
    sink_.fail_apply = true;
    grow(2);
    client.sync_now();
    ASSERT_TRUE(eventually([&] { return status(client)["consecutive_failures"].get<int>() >= 1; }))
        << client.status_json();
    EXPECT_EQ(status(client)["last_txn_id"].get<std::uint64_t>(), before);
    client.stop();
    auto state = read_state(dir_ / "replication.state");
    ASSERT_TRUE(state && state->has_value());
    EXPECT_EQ((*state)->last_txn_id, before);
}

// ---- without the server ------------------------------------------------------------------------

ClientOptions offline_options(const socket::Endpoint& upstream, const std::filesystem::path& state)
{
    ClientOptions o;
    o.upstream = upstream;
    o.upstream_key = public_half(server_key());
    o.admin_handle = kAdmin;
    o.admin_index = kAdminIndex;
    o.admin_key = admin_key();
    o.state_file = state;
    o.io_timeout_ms = 30000;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 40;
    return o;
}

/// A listening socket that never accepts: connects succeed (the backlog), nothing is answered.
struct SilentListener {
    SilentListener()
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(fd, 8), 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        endpoint = socket::endpoint_from(reinterpret_cast<sockaddr*>(&a), len);
    }
    ~SilentListener() { ::close(fd); }
    int fd = -1;
    socket::Endpoint endpoint;
};

TEST(ReplicationOffline, StopDoesNotWaitForTheIoTimeout)
{
    SilentListener silent;
    const auto state = std::filesystem::temp_directory_path() / ("idpath-repl-stop-" + std::to_string(::getpid()));
    FakeSink sink;
    ReplicationClient client(offline_options(silent.endpoint, state), sink);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return status(client)["state"] == "connecting"; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // waiting for the reply now
    const auto t0 = Clock::now();
    client.stop();
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
    EXPECT_EQ(sink.dump_begins(), 0);
    std::filesystem::remove(state);
}

TEST(ReplicationOffline, RefusedConnectionsBackOff)
{
    socket::Endpoint closed;
    {
        SilentListener l; // a port that was free a moment ago, now closed
        closed = l.endpoint;
    }
    const auto state = std::filesystem::temp_directory_path() / ("idpath-repl-refused-" + std::to_string(::getpid()));
    FakeSink sink;
    ReplicationClient client(offline_options(closed, state), sink);
    ASSERT_TRUE(client.start(false));
    ASSERT_TRUE(eventually([&] { return counter(client, "connect_failures") >= 3; })) << client.status_json();
    const auto s = status(client);
    EXPECT_GE(s["consecutive_failures"].get<int>(), 3);
    EXPECT_LE(s["next_attempt_in_ms"].get<long long>(), 40);
    client.stop();
    EXPECT_EQ(sink.dump_begins(), 0);
}

} // namespace
} // namespace idpath::replication
