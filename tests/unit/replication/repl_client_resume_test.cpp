// The mirror resuming a broken dump (HANDLE.NET's startingPoint) against a scripted upstream
// that cuts its stream: what the resume asks for, what it keeps, and when it starts over.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controlplane/replication/dump_order.hpp"
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

using testing::counter;
using testing::eventually;
using testing::FakeRecord;
using testing::FakeSink;
using testing::reply_to;
using testing::ScriptedUpstream;
using testing::server_key;
using testing::SignedStreamWriter;
using testing::status;

constexpr std::uint32_t kSuccess = 1;

/// How one connection of the upstream answers a dump request.
struct Answer {
    bool honour = true;                  // false: ignores the starting point (an old idpathd)
    std::optional<std::uint64_t> txn;    // the DumpInfo position, when one is sent
    std::optional<std::size_t> cut;      // closes after this many records, without 0xff
};

/// A primary's table (map order is its dump order here) and its homed prefix handles.
class Upstream {
public:
    Upstream()
    {
        for (int i = 0; i < 10; ++i)
            table["88.100.1/R" + std::to_string(i)] =
                testing::simple_record("https://example.org/" + std::to_string(i));
        prefixes = {"0.NA/88.100.1", "0.NA/88.100.2", "0.NA/88.100.3"};
    }

    /// The stream for `req`, as `a` says.
    std::vector<std::uint8_t> stream(const DumpHandlesRequest& req, const Answer& a) const
    {
        SignedStreamWriter w(server_key());
        w.block([](auto& out) { encode_dump_header(out); });
        const bool resume = req.starting_point && a.honour;
        if (a.txn && !resume)
            w.block([&](auto& out) { encode_dump_info(DumpInfo{1700000000000, *a.txn}, out); });
        std::size_t sent = 0;
        auto room = [&] { return !a.cut || sent < *a.cut; };
        if (!resume || req.starting_point_type == kResumeHandle)
            for (const auto& [h, rec] : table) {
                if (resume && h <= *req.starting_point)
                    continue;
                if (!room())
                    return w.out;
                w.block([&](auto& out) { encode_dump_handle(h, rec.count, rec.encoded, out); });
                ++sent;
            }
        for (const auto& p : prefixes) {
            if (resume && req.starting_point_type == kResumeNa && p <= *req.starting_point)
                continue;
            if (!room())
                return w.out;
            w.block([&](auto& out) { encode_dump_homed_prefix(p, out); });
            ++sent;
        }
        w.bare([](auto& out) { encode_dump_done(out); });
        return w.out;
    }

    std::map<std::string, FakeRecord> table;
    std::vector<std::string> prefixes;
};

class Resume : public testing::ScriptedClientTest {
protected:
    /// Starts `client`, waits until `done` holds, stops it (which drops a dump still staged).
    void run(ReplicationClient& client, const std::function<bool()>& done)
    {
        ASSERT_TRUE(client.start(false));
        ASSERT_TRUE(eventually(done)) << client.status_json();
        client.stop();
    }

    /// An upstream answering connection i with answers[i] (the last one for any later), which
    /// records every request it got.
    ScriptedUpstream::Script script(std::vector<Answer> answers)
    {
        return [this, answers](int index, const ReceivedMessage& req, crypto::ByteStream& s) {
            auto body = decode_dump_handles_request(header_and_body(req.message).subspan(wire::kHeaderSize));
            ASSERT_TRUE(body);
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(*body);
            }
            const Answer& a = answers[std::min<std::size_t>(static_cast<std::size_t>(index), answers.size() - 1)];
            auto m = reply_to(req, kSuccess, {});
            const auto stream = upstream_.stream(*body, a);
            m.insert(m.end(), stream.begin(), stream.end());
            (void)s.write_all(m, 3000);
        };
    }

    std::vector<DumpHandlesRequest> requests()
    {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::uint64_t saved_txn() const
    {
        auto s = read_state(state_);
        return s && s->has_value() ? (*s)->last_txn_id : ~std::uint64_t{0};
    }
    std::set<std::string> homed() const
    {
        std::set<std::string> out;
        for (const auto& p : upstream_.prefixes)
            out.insert(prefix_from_prefix_handle(p));
        return out;
    }

    FakeSink sink_;
    Upstream upstream_;
    std::mutex mutex_;
    std::vector<DumpHandlesRequest> requests_;
};

TEST_F(Resume, CutDumpResumesAfterTheLastStagedHandle)
{
    ScriptedUpstream up(script({Answer{true, 77, 4}, Answer{true, std::nullopt, std::nullopt}}));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_NO_FATAL_FAILURE(run(client, [&] { return sink_.dump_commits() == 1; }));
    EXPECT_EQ(sink_.records(), upstream_.table);
    EXPECT_EQ(sink_.homed(), homed());
    EXPECT_EQ(sink_.dump_begins(), 1);
    EXPECT_EQ(sink_.dump_aborts(), 0);
    EXPECT_EQ(counter(client, "dump_resumes"), 1u);
    EXPECT_EQ(counter(client, "stream_errors"), 1u);
    const auto r = requests();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_FALSE(r[0].starting_point);
    EXPECT_EQ(r[1].starting_point, "88.100.1/R3"); // the 4th handle in the upstream's order
    EXPECT_EQ(r[1].starting_point_type, kResumeHandle);
    EXPECT_EQ(r[1].shard, r[0].shard);
    // The resumed part carried no position: the first one's stands.
    EXPECT_EQ(saved_txn(), 77u);
}

TEST_F(Resume, UpstreamIgnoringTheStartingPointEndsEqualAtTheFirstPosition)
{
    // An old idpathd: everything again, with its newer position; the pull must start from the
    // first one (the smallest), so the changes during the break are replayed.
    ScriptedUpstream up(script({Answer{false, 77, 6}, Answer{false, 90, std::nullopt}}));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_NO_FATAL_FAILURE(run(client, [&] { return sink_.dump_commits() == 1; }));
    EXPECT_EQ(sink_.records(), upstream_.table);
    EXPECT_EQ(sink_.homed(), homed());
    EXPECT_EQ(sink_.dump_begins(), 1);
    EXPECT_EQ(counter(client, "dump_resumes"), 1u);
    EXPECT_EQ(counter(client, "records_refused"), 0u);
    EXPECT_EQ(requests().at(1).starting_point, "88.100.1/R5");
    EXPECT_EQ(saved_txn(), 77u);
}

TEST_F(Resume, CutInThePrefixPartResumesWithTheNaType)
{
    // 10 handles and one prefix, then the break.
    ScriptedUpstream up(script({Answer{true, 77, 11}, Answer{true, std::nullopt, std::nullopt}}));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_NO_FATAL_FAILURE(run(client, [&] { return sink_.dump_commits() == 1; }));
    const auto r = requests();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].starting_point, "0.NA/88.100.1");
    EXPECT_EQ(r[1].starting_point_type, kResumeNa);
    EXPECT_EQ(sink_.records(), upstream_.table);
    EXPECT_EQ(sink_.homed(), homed());
    EXPECT_EQ(saved_txn(), 77u);
}

TEST_F(Resume, SeveralBreaksResumeFromEachLastRecord)
{
    ScriptedUpstream up(script({Answer{true, 77, 3}, Answer{true, std::nullopt, 3}, Answer{true, std::nullopt, 5},
                                Answer{true, std::nullopt, std::nullopt}}));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_NO_FATAL_FAILURE(run(client, [&] { return sink_.dump_commits() == 1; }));
    const auto r = requests();
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[1].starting_point, "88.100.1/R2");
    EXPECT_EQ(r[2].starting_point, "88.100.1/R5");
    EXPECT_EQ(r[3].starting_point, "0.NA/88.100.1");
    EXPECT_EQ(r[3].starting_point_type, kResumeNa);
    EXPECT_EQ(counter(client, "dump_resumes"), 3u);
    EXPECT_EQ(sink_.records(), upstream_.table);
    EXPECT_EQ(sink_.homed(), homed());
}

TEST_F(Resume, UpstreamThatWentBackStartsOver)
{
    // The resumed answer reports a position before the first: its journal was replaced, so the
    // staged part may hold records it no longer has. The client drops it and dumps again.
    ScriptedUpstream up(script({Answer{false, 77, 4}, Answer{false, 50, std::nullopt},
                                Answer{false, 50, std::nullopt}}));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_NO_FATAL_FAILURE(run(client, [&] { return sink_.dump_commits() == 1; }));
    const auto r = requests();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_TRUE(r[1].starting_point);
    EXPECT_FALSE(r[2].starting_point);
    EXPECT_EQ(sink_.dump_begins(), 2);
    EXPECT_EQ(sink_.dump_aborts(), 1);
    EXPECT_EQ(sink_.records(), upstream_.table);
    EXPECT_EQ(saved_txn(), 50u);
}

TEST_F(Resume, ResumesThatBringNothingNewStartOver)
{
    // Every answer breaks after the same record: the resume point never moves.
    ScriptedUpstream up(script({Answer{false, 77, 4}}));
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_NO_FATAL_FAILURE(run(client, [&] { return sink_.dump_begins() >= 2; }));
    const auto r = requests();
    // First request, two idle resumes, then a fresh request.
    ASSERT_GE(r.size(), 4u);
    EXPECT_FALSE(r[0].starting_point);
    EXPECT_TRUE(r[1].starting_point);
    EXPECT_TRUE(r[2].starting_point);
    EXPECT_FALSE(r[3].starting_point);
    EXPECT_EQ(sink_.dump_commits(), 0);
    EXPECT_EQ(sink_.dump_aborts(), sink_.dump_begins()); // stop() drops what was staged
}

TEST_F(Resume, RefusalOfTheResumeStartsOver)
{
    ScriptedUpstream up([&](int index, const ReceivedMessage& req, crypto::ByteStream& s) {
        auto body = decode_dump_handles_request(header_and_body(req.message).subspan(wire::kHeaderSize));
        ASSERT_TRUE(body);
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(*body);
        }
        if (index == 1) {
            (void)s.write_all(reply_to(req, static_cast<std::uint32_t>(wire::ResponseCode::InvalidAdmin), {}), 3000);
            return;
        }
        auto m = reply_to(req, kSuccess, {});
        const auto stream = upstream_.stream(*body, Answer{true, 77, index == 0 ? std::optional<std::size_t>(4)
                                                                               : std::nullopt});
        m.insert(m.end(), stream.begin(), stream.end());
        (void)s.write_all(m, 3000);
    });
    ReplicationClient client(options(up.endpoint), sink_);
    ASSERT_NO_FATAL_FAILURE(run(client, [&] { return sink_.dump_commits() == 1; }));
    const auto r = requests();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_TRUE(r[1].starting_point);
    EXPECT_FALSE(r[2].starting_point);
    EXPECT_EQ(sink_.dump_begins(), 2);
    EXPECT_EQ(counter(client, "auth_failures"), 1u);
    EXPECT_EQ(sink_.records(), upstream_.table);
}

} // namespace
} // namespace idpath::replication
