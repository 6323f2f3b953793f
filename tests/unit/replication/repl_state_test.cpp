#include "controlplane/replication/repl_state.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/fresh_dir.hpp"

namespace idpath::replication {
namespace {

class StateDir : public test_support::FreshDirTest {
protected:
    void write_text(const std::string& text) { std::ofstream(file()) << text; }
    std::filesystem::path file() const { return dir_ / "replication.state"; }
};

ReplState sample()
{
    ReplState s;
    s.upstream = "192.0.2.10:2641";
    s.shard = ShardFilter{2, 4, 3};
    s.last_txn_id = 0xfedcba9876543210ull;
    s.last_query_date_ms = 1763870000123;
    s.last_dump_unix = 1763860000;
    return s;
}

TEST_F(StateDir, RoundTrip)
{
    ASSERT_TRUE(write_state(file(), sample()));
    auto r = read_state(file());
    ASSERT_TRUE(r) << r.error();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ(**r, sample());
    EXPECT_FALSE(std::filesystem::exists(file().string() + ".tmp"));
}

TEST_F(StateDir, OverwriteReplacesTheOldState)
{
    ASSERT_TRUE(write_state(file(), sample()));
    ReplState next = sample();
    next.last_txn_id = 7;
    ASSERT_TRUE(write_state(file(), next));
    auto r = read_state(file());
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ((*r)->last_txn_id, 7u);
}

TEST_F(StateDir, MissingIsNoState)
{
    auto r = read_state(file());
    ASSERT_TRUE(r) << r.error();
    EXPECT_FALSE(r->has_value());
}

TEST_F(StateDir, DamagedNamesTheFile)
{
    for (const std::string& text : {
             std::string("{\"version\":1,\"upstream\":\"192.0.2.10:2641\""),  // truncated
             std::string("[1,2,3]"),                                          // not an object
             std::string(R"({"version":2,"upstream":"a","shard":{"hash_type":2,"num_servers":1,"server_num":0},)"
                         R"("last_txn_id":1,"last_query_date_ms":1,"last_dump_unix":1})"), // version
             std::string(R"({"version":1,"upstream":"a","shard":{"hash_type":2,"num_servers":1,"server_num":0},)"
                         R"("last_txn_id":"x","last_query_date_ms":1,"last_dump_unix":1})"), // type
             std::string(R"({"version":1,"upstream":"a","shard":{"hash_type":2,"num_servers":1},)"
                         R"("last_txn_id":1,"last_query_date_ms":1,"last_dump_unix":1})"), // missing field
             std::string(""),
         }) {
        write_text(text);
        auto r = read_state(file());
        ASSERT_FALSE(r) << text;
        EXPECT_NE(r.error().find(file().string()), std::string::npos) << r.error();
    }
}

TEST_F(StateDir, UnwritableDirectoryIsAnError)
{
    auto w = write_state(dir_ / "no-such-dir" / "state", sample());
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().find("no-such-dir"), std::string::npos) << w.error();
}

} // namespace
} // namespace idpath::replication
