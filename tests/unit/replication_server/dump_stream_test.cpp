// The dump stream an upstream writes (server_stream.hpp), without sockets: its order
// (dump_order.hpp) and what a resume (DumpHandlesRequest::starting_point) sends.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "controlplane/replication/dump_order.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "controlplane/replication/server_stream.hpp"
#include "tests/unit/replication_server/fake_source.hpp"

namespace idpath::replication {
namespace {

using testing::FakeSource;

class MemoryStream final : public crypto::ByteStream {
public:
    Result<std::size_t, std::string> read_some(MutableByteSpan, int) override { return std::size_t{0}; }
    Result<void, std::string> write_all(ByteSpan bytes, int) override
    {
        written.insert(written.end(), bytes.begin(), bytes.end());
        return {};
    }
    void close() override {}
    int fd() const noexcept override { return -1; }

    std::vector<std::uint8_t> written;
};

struct Dumped {
    bool info = false;
    std::vector<std::string> handles;  // in stream order
    std::vector<std::string> prefixes; // in stream order
    bool prefixes_after_handles = true;
};

Dumped dump(FakeSource& source, const DumpHandlesRequest& req)
{
    MemoryStream out;
    StreamWriter w(out, 1000, nullptr);
    std::uint64_t records = 0;
    auto r = write_dump_stream(w, source, req, 1700000000000, records);
    EXPECT_TRUE(r) << r.error();
    DumpStreamDecoder dec;
    dec.feed(out.written);
    Dumped d;
    for (;;) {
        DumpItem item;
        auto more = dec.next(item);
        EXPECT_TRUE(more && *more) << (more ? "stream ended before 0xff" : more.error());
        if (!more || !*more)
            break;
        if (std::holds_alternative<DumpInfo>(item)) {
            EXPECT_TRUE(d.handles.empty() && d.prefixes.empty()) << "DumpInfo after records";
            d.info = true;
        } else if (auto* h = std::get_if<DumpHandle>(&item)) {
            d.prefixes_after_handles = d.prefixes_after_handles && d.prefixes.empty();
            d.handles.push_back(h->handle);
        } else if (auto* p = std::get_if<DumpHomedPrefix>(&item)) {
            d.prefixes.push_back(p->prefix_handle);
        } else if (std::holds_alternative<DumpDone>(item)) {
            break;
        }
    }
    EXPECT_EQ(records, d.handles.size());
    return d;
}

DumpHandlesRequest full() { return DumpHandlesRequest{}; }

DumpHandlesRequest resume(std::string after, std::uint32_t type = kResumeHandle, ShardFilter shard = {})
{
    return DumpHandlesRequest{shard, std::move(after), type};
}

bool in_dump_order(const std::vector<std::string>& keys)
{
    return std::is_sorted(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
        return dump_before(dump_hash(a), a, dump_hash(b), b);
    });
}

std::vector<std::string> after(const std::vector<std::string>& keys, std::size_t k)
{
    return {keys.begin() + static_cast<std::ptrdiff_t>(k + 1), keys.end()};
}

class DumpStream : public ::testing::Test {
protected:
    void SetUp() override
    {
        source.populate("88.100.1", 300);
        source.homed = {"88.100.3", "88.100.1", "88.100.2"};
    }
    FakeSource source;
};

TEST_F(DumpStream, FullDumpIsInDumpOrderWithSortedPrefixesLast)
{
    const Dumped d = dump(source, full());
    EXPECT_TRUE(d.info);
    EXPECT_EQ(d.handles.size(), source.records.size());
    EXPECT_EQ(std::set<std::string>(d.handles.begin(), d.handles.end()).size(), source.records.size());
    EXPECT_TRUE(in_dump_order(d.handles));
    // The fake's map is in key order: sorting by hash must have reordered it.
    EXPECT_FALSE(std::is_sorted(d.handles.begin(), d.handles.end()));
    EXPECT_EQ(d.prefixes, (std::vector<std::string>{"0.NA/88.100.1", "0.NA/88.100.2", "0.NA/88.100.3"}));
    EXPECT_TRUE(d.prefixes_after_handles);
}

TEST_F(DumpStream, ResumeSendsExactlyTheHandlesAfterTheStartingPoint)
{
    const Dumped whole = dump(source, full());
    for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{74}, std::size_t{75}, std::size_t{150},
                          whole.handles.size() - 2, whole.handles.size() - 1}) {
        const Dumped d = dump(source, resume(whole.handles[k]));
        EXPECT_FALSE(d.info) << "a resume keeps the first response's lastTxnId, as 9.x does";
        EXPECT_EQ(d.handles, after(whole.handles, k)) << "after #" << k << " " << whole.handles[k];
        EXPECT_EQ(d.prefixes, whole.prefixes);
    }
}

TEST_F(DumpStream, ResumeAfterADeletedHandle)
{
    const Dumped whole = dump(source, full());
    for (std::size_t k : {std::size_t{0}, std::size_t{100}, whole.handles.size() - 1}) {
        FakeSource changed;
        changed.records = source.records;
        changed.homed = source.homed;
        changed.records.erase(whole.handles[k]);
        const Dumped d = dump(changed, resume(whole.handles[k]));
        EXPECT_EQ(d.handles, after(whole.handles, k)) << whole.handles[k];
    }
    // A starting point the table never held has its place in the order all the same.
    const std::string stranger = "88.100.1/never-there";
    std::vector<std::string> expect;
    for (const auto& h : whole.handles)
        if (dump_before(dump_hash(stranger), stranger, dump_hash(h), h))
            expect.push_back(h);
    EXPECT_EQ(dump(source, resume(stranger)).handles, expect);
}

TEST_F(DumpStream, OrderIsStableAcrossAnInsert)
{
    const Dumped before = dump(source, full());
    source.populate("88.100.9", 40);
    const Dumped now = dump(source, full());
    ASSERT_EQ(now.handles.size(), before.handles.size() + 40);
    EXPECT_TRUE(in_dump_order(now.handles));
    std::vector<std::string> old_ones;
    for (const auto& h : now.handles)
        if (h.rfind("88.100.1/", 0) == 0)
            old_ones.push_back(h);
    EXPECT_EQ(old_ones, before.handles);

    // A mirror that got `before` up to #k resumes: it gets every handle after that place, the
    // new ones there included, and no old one twice. New ones before the place reach it
    // through the transaction log (their journal entries follow the first dump's position).
    const std::size_t k = 120;
    const Dumped rest = dump(source, resume(before.handles[k]));
    const auto at = std::find(now.handles.begin(), now.handles.end(), before.handles[k]);
    ASSERT_NE(at, now.handles.end());
    EXPECT_EQ(rest.handles, std::vector<std::string>(at + 1, now.handles.end()));
    std::set<std::string> got(before.handles.begin(), before.handles.begin() + k + 1);
    for (const auto& h : rest.handles)
        EXPECT_TRUE(got.insert(h).second) << h << " sent twice";
    for (std::size_t i = source.journal.size() - 40; i < source.journal.size(); ++i)
        got.insert(source.journal[i].handle);
    EXPECT_EQ(got.size(), source.records.size());
}

TEST_F(DumpStream, PieceCountChangesDoNotSkipOrRepeat)
{
    const Dumped whole = dump(source, full());
    for (std::size_t pieces : {1u, 2u, 16u, 64u}) {
        source.piece_count = pieces;
        EXPECT_EQ(dump(source, full()).handles, whole.handles) << pieces << " pieces";
        EXPECT_EQ(dump(source, resume(whole.handles[200])).handles, after(whole.handles, 200)) << pieces;
    }
    source.piece_count = 3;
    MemoryStream out;
    StreamWriter w(out, 1000, nullptr);
    std::uint64_t records = 0;
    EXPECT_FALSE(write_dump_stream(w, source, full(), 0, records));
}

TEST_F(DumpStream, AReloadRacingAVisitNeitherSkipsNorRepeats)
{
    const Dumped whole = dump(source, full());
    for (std::size_t next : {16u, 2u}) {
        // The piece count changes after the writer read it and before the piece is walked.
        int visits = 0;
        source.piece_count = 4;
        source.before_visit = [&](std::size_t) {
            if (++visits == 2)
                source.piece_count = next;
        };
        EXPECT_EQ(dump(source, full()).handles, whole.handles) << "4 -> " << next;
        EXPECT_GT(visits, 2);
    }
}

TEST_F(DumpStream, NaResumeSendsOnlyThePrefixesAfterIt)
{
    Dumped d = dump(source, resume("0.NA/88.100.1", kResumeNa));
    EXPECT_FALSE(d.info);
    EXPECT_TRUE(d.handles.empty());
    EXPECT_EQ(d.prefixes, (std::vector<std::string>{"0.NA/88.100.2", "0.NA/88.100.3"}));
    // The last prefix: nothing but the end record.
    d = dump(source, resume("0.NA/88.100.3", kResumeNa));
    EXPECT_TRUE(d.handles.empty());
    EXPECT_TRUE(d.prefixes.empty());
    // A prefix unhomed since: the ones after its place.
    d = dump(source, resume("0.NA/88.100.15", kResumeNa));
    EXPECT_EQ(d.prefixes, (std::vector<std::string>{"0.NA/88.100.2", "0.NA/88.100.3"}));
}

TEST_F(DumpStream, ReplicationDbResumesSendEverythingWithoutPosition)
{
    const Dumped whole = dump(source, full());
    for (std::uint32_t type : {kResumeHandleReplicationDb, kResumeNaReplicationDb, 7u}) {
        const Dumped d = dump(source, resume("88.100.1/h5", type));
        EXPECT_FALSE(d.info);
        EXPECT_EQ(d.handles, whole.handles) << type;
        EXPECT_EQ(d.prefixes, whole.prefixes) << type;
    }
}

TEST_F(DumpStream, ShardedResumeStaysInItsShard)
{
    const ShardFilter shard{2, 2, 1};
    DumpHandlesRequest req;
    req.shard = shard;
    const Dumped whole = dump(source, req);
    ASSERT_GT(whole.handles.size(), 20u);
    for (const auto& h : whole.handles)
        EXPECT_TRUE(shard.contains(h)) << h;
    EXPECT_EQ(dump(source, resume(whole.handles[10], kResumeHandle, shard)).handles, after(whole.handles, 10));
}

} // namespace
} // namespace idpath::replication
