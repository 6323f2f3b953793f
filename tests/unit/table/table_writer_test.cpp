// The table's writer (Table::upsert/erase/home/unhome/compact): a random sequence of changes
// against an oracle, shard rebuilds, retired memory, and readers running while it writes.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/base/qsbr.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/table.hpp"
#include "tests/unit/table/url_value.hpp"

namespace idpath::table {
namespace {

using test::url_value;

/// A record whose every value says the same thing: a reader can tell a mix of two.
EncodedRecord record(const std::string& handle, const std::string& version, std::size_t values = 3)
{
    std::vector<wire::HandleValue> v;
    for (std::uint32_t i = 1; i <= values; ++i)
        v.push_back(url_value(i, handle + "@" + version + std::string(i * 7, 'x')));
    auto r = encode_record(handle, std::move(v));
    EXPECT_TRUE(r);
    return std::move(*r);
}

/// The version every value of `rec` says, or "mixed".
std::string version_of(const RecordView& rec)
{
    std::string seen;
    for (const ValueEntry& e : rec.values) {
        const ByteSpan encoded = rec.encoded.subspan(e.offset, e.length);
        // data follows type: the value's own last 4+N octets are data length and data; parse
        // just the text between '@' and the first 'x'.
        const std::string_view s(reinterpret_cast<const char*>(encoded.data()), encoded.size());
        const auto at = s.find('@');
        const auto x = s.find('x', at);
        const std::string v(s.substr(at + 1, x - at - 1));
        if (!seen.empty() && v != seen)
            return "mixed";
        seen = v;
    }
    return seen;
}

std::shared_ptr<Table> table_of(std::size_t n)
{
    TableBuilder b;
    b.home("88.1");
    for (std::size_t i = 0; i < n; ++i)
        EXPECT_TRUE(b.add(record("88.1/K" + std::to_string(i), "0")));
    return std::move(b).build();
}

void expect_matches(const Table& t, const std::map<std::string, std::string>& oracle, std::size_t key_space)
{
    ASSERT_EQ(t.size(), oracle.size());
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < key_space; ++i)
        keys.push_back("88.1/K" + std::to_string(i));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::optional<RecordView>> burst(views.size());
    t.find_burst(views, burst);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto it = oracle.find(keys[i]);
        const auto one = t.find(keys[i]);
        ASSERT_EQ(one.has_value(), it != oracle.end()) << keys[i];
        ASSERT_EQ(burst[i].has_value(), it != oracle.end()) << keys[i];
        if (one) {
            EXPECT_EQ(version_of(*one), it->second) << keys[i];
            EXPECT_EQ(one->encoded.data(), burst[i]->encoded.data());
        }
    }
}

TEST(TableWriter, RandomChangesMatchAnOracle)
{
    constexpr std::size_t kKeys = 3000;
    auto t = table_of(1000);
    std::map<std::string, std::string> oracle;
    for (std::size_t i = 0; i < 1000; ++i)
        oracle["88.1/K" + std::to_string(i)] = "0";
    std::mt19937_64 rng(7);
    Retired retired;
    for (int step = 1; step <= 20000; ++step) {
        const std::string key = "88.1/K" + std::to_string(rng() % kKeys);
        if (rng() % 4 == 0) {
            EXPECT_EQ(t->erase(key, retired), oracle.erase(key) == 1);
        } else {
            const std::string v = std::to_string(step);
            t->upsert(record(key, v, 1 + rng() % 4), retired);
            oracle[key] = v;
        }
        if (step % 5000 == 0)
            expect_matches(*t, oracle, kKeys);
    }
    EXPECT_GT(t->shard_rebuilds(), 0u);
    EXPECT_FALSE(retired.empty());
    retired.clear();
    expect_matches(*t, oracle, kKeys);

    // Compaction drops every tombstone and replaced record, and changes no answer.
    t->compact(0, retired);
    retired.clear();
    for (std::size_t s = 0; s < t->shard_count(); ++s) {
        EXPECT_EQ(t->shard_image(s).tombstones, 0u);
        EXPECT_EQ(t->shard_image(s).garbage_bytes, 0u);
    }
    expect_matches(*t, oracle, kKeys);
}

TEST(TableWriter, FiguresFollowTheChanges)
{
    auto t = table_of(10);
    Retired retired;
    const std::size_t bytes = t->value_bytes();
    const EncodedRecord bigger = record("88.1/K3", "1", 5);
    const std::size_t old_bytes = t->find("88.1/K3")->encoded.size();
    t->upsert(bigger, retired);
    EXPECT_EQ(t->size(), 10u);
    EXPECT_EQ(t->value_bytes(), bytes - old_bytes + bigger.value_bytes);
    EXPECT_TRUE(t->erase("88.1/K3", retired));
    EXPECT_FALSE(t->erase("88.1/K3", retired));
    EXPECT_EQ(t->size(), 9u);
    EXPECT_EQ(t->value_bytes(), bytes - old_bytes);
    t->upsert(record("88.1/NEW", "1"), retired);
    EXPECT_EQ(t->size(), 10u);
    EXPECT_TRUE(t->find("88.1/NEW"));
}

TEST(TableWriter, AReplacedRecordStaysReadableUntilRetiredIsFreed)
{
    auto t = table_of(100);
    Retired retired;
    const RecordView before = *t->find("88.1/K5");
    const std::vector<std::uint8_t> bytes(before.encoded.begin(), before.encoded.end());
    // Enough changes to rebuild the shard several times over.
    for (int i = 0; i < 2000; ++i)
        t->upsert(record("88.1/K5", std::to_string(i + 1), 4), retired);
    EXPECT_GT(t->shard_rebuilds(), 0u);
    EXPECT_EQ(std::vector<std::uint8_t>(before.encoded.begin(), before.encoded.end()), bytes);
    EXPECT_EQ(version_of(*t->find("88.1/K5")), "2000");
}

TEST(TableWriter, MemoryFiguresFollowRebuilds)
{
    auto t = table_of(200000); // four shards
    ASSERT_GT(t->shard_count(), 1u);
    const std::size_t before = t->memory_bytes();
    Retired retired;
    // Replace every record once: every shard runs out of room and is rebuilt with slack.
    for (std::size_t i = 0; i < 200000; ++i)
        t->upsert(record("88.1/K" + std::to_string(i), "1"), retired);
    retired.clear();
    EXPECT_GE(t->shard_rebuilds(), t->shard_count());
    // Slack is an eighth of the arena and a quarter more buckets; garbage fills the slack.
    EXPECT_LT(t->memory_bytes(), before * 3 / 2) << before;
    EXPECT_GT(t->memory_bytes(), before / 2) << before;
    t->compact(0, retired);
    retired.clear();
    EXPECT_LT(t->memory_bytes(), before * 3 / 2) << before;
}

TEST(TableWriter, HomesAndUnhomesPrefixes)
{
    auto t = table_of(1);
    Retired retired;
    EXPECT_TRUE(t->homes("88.1"));
    t->home("88.2", retired);
    EXPECT_TRUE(t->homes("88.2"));
    EXPECT_EQ(t->homed_count(), 2u);
    t->unhome("88.1", retired);
    t->unhome("88.9", retired); // not homed: nothing happens
    EXPECT_FALSE(t->homes("88.1"));
    EXPECT_EQ(t->homed_prefixes(), std::vector<std::string>{"88.2"});
    EXPECT_FALSE(retired.empty());
}

TEST(TableWriter, UpdatesAnEmptyTable)
{
    Table t;
    Retired retired;
    for (int i = 0; i < 100; ++i)
        t.upsert(record("88.1/K" + std::to_string(i), "1"), retired);
    EXPECT_EQ(t.size(), 100u);
    for (int i = 0; i < 100; ++i)
        EXPECT_TRUE(t.find("88.1/K" + std::to_string(i)));
}

// Readers look up every key in bursts while the writer replaces, deletes and re-creates
// records and rebuilds shards, freeing what it retires after Reclaimer::synchronize(). Every
// stable key is always found, every answer is one version's (never a mix), and (under ASan)
// no reader touches freed memory.
TEST(TableWriter, ReadersNeverWaitAndNeverSeeAMix)
{
    constexpr std::size_t kStable = 2000;
    constexpr std::size_t kChurn = 2000;
    auto t = table_of(kStable);
    Reclaimer reclaimer(2);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> lookups{0};
    std::atomic<std::uint64_t> bad{0};

    std::vector<std::string> keys;
    for (std::size_t i = 0; i < kStable + kChurn; ++i)
        keys.push_back("88.1/K" + std::to_string(i));
    std::vector<std::string_view> views(keys.begin(), keys.end());

    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        const unsigned id = reclaimer.register_thread();
        readers.emplace_back([&, id] {
            std::vector<std::optional<RecordView>> out(Table::kBurst);
            reclaimer.online(id);
            std::uint64_t n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                for (std::size_t base = 0; base < views.size(); base += Table::kBurst) {
                    const auto group = std::span(views).subspan(base, std::min(Table::kBurst, views.size() - base));
                    t->find_burst(group, out);
                    for (std::size_t i = 0; i < group.size(); ++i) {
                        const bool stable = base + i < kStable;
                        if ((stable && !out[i]) || (out[i] && version_of(*out[i]) == "mixed"))
                            bad.fetch_add(1, std::memory_order_relaxed);
                    }
                    n += group.size();
                    reclaimer.quiescent(id);
                }
            }
            reclaimer.offline(id);
            lookups.fetch_add(n);
        });
    }

    std::mt19937_64 rng(3);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    std::uint64_t changes = 0;
    while (std::chrono::steady_clock::now() < until) {
        Retired retired;
        for (int i = 0; i < 200; ++i, ++changes) {
            const std::size_t k = rng() % (kStable + kChurn);
            if (k >= kStable && rng() % 3 == 0)
                t->erase(keys[k], retired);
            else
                t->upsert(record(keys[k], std::to_string(changes), 1 + rng() % 4), retired);
        }
        reclaimer.synchronize();
        retired.clear(); // no reader can still hold any of it
    }
    stop = true;
    for (auto& r : readers)
        r.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(lookups.load(), 0u);
    EXPECT_GT(t->shard_rebuilds(), 0u);
    RecordProperty("changes", static_cast<int>(changes));
}

} // namespace
} // namespace idpath::table
