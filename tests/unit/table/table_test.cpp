// The sharded table (dataplane/table/table.hpp): lookups against an oracle, the burst lookup
// against the single one, and the edges of the record layout.

#include "dataplane/table/table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/table/handle_key.hpp"

namespace idpath::table {
namespace {

wire::HandleValue value(std::uint32_t index, std::string type, std::string data,
                        std::uint8_t perms = wire::perm::kDefault)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1700000000;
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    v.permissions = perms;
    return v;
}

std::vector<std::uint8_t> encode_all(const std::vector<wire::HandleValue>& values)
{
    std::size_t n = 0;
    for (const auto& v : values)
        n += wire::encoded_size(v);
    std::vector<std::uint8_t> out(n);
    ByteWriter w(out);
    for (const auto& v : values)
        wire::encode_value(w, v);
    return out;
}

/// The record matches `values` (sorted by index): entries, encoded octets, flag.
void expect_record(const RecordView& r, const std::vector<wire::HandleValue>& values)
{
    const auto encoded = encode_all(values);
    ASSERT_EQ(r.values.size(), values.size());
    ASSERT_EQ(std::vector<std::uint8_t>(r.encoded.begin(), r.encoded.end()), encoded);
    bool all_public = true;
    std::uint32_t offset = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const ValueEntry& e = r.values[i];
        EXPECT_EQ(e.index(r.encoded), values[i].index);
        EXPECT_EQ(e.offset, offset);
        EXPECT_EQ(e.length, wire::encoded_size(values[i]));
        EXPECT_EQ(e.permissions(r.encoded), values[i].permissions);
        EXPECT_EQ(as_string_view(e.type(r.encoded)), values[i].type);
        offset += e.length;
        all_public = all_public && (values[i].permissions & wire::perm::kPublicRead);
    }
    EXPECT_EQ(r.all_public_read, all_public);
}

std::vector<std::optional<RecordView>> burst(const Table& t, const std::vector<std::string>& keys)
{
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::optional<RecordView>> out(keys.size());
    t.find_burst(views, out);
    return out;
}

bool same(const std::optional<RecordView>& a, const std::optional<RecordView>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    return !a || (a->values.data() == b->values.data() && a->values.size() == b->values.size() &&
                  a->encoded.data() == b->encoded.data() && a->encoded.size() == b->encoded.size() &&
                  a->all_public_read == b->all_public_read);
}

TEST(ShardedTable, HitsAndMisses)
{
    TableBuilder b;
    ASSERT_TRUE(b.add("88.1/a", {value(2, "EMAIL", "a@example.org"), value(1, "URL", "https://a")}));
    ASSERT_TRUE(b.add("88.1/b", {value(1, "URL", "https://b")}));
    EXPECT_EQ(b.size(), 2u);
    EXPECT_TRUE(b.contains("88.1/A"));
    EXPECT_FALSE(b.contains("88.1/c"));
    const auto t = std::move(b).build();
    EXPECT_EQ(b.size(), 0u); // the builder is empty afterwards
    EXPECT_EQ(t->size(), 2u);
    EXPECT_EQ(t->shard_count(), 1u);

    const auto a = t->find("88.1/A");
    ASSERT_TRUE(a);
    expect_record(*a, {value(1, "URL", "https://a"), value(2, "EMAIL", "a@example.org")});
    ASSERT_TRUE(t->find("88.1/B"));
    EXPECT_FALSE(t->find("88.1/a")); // callers normalise
    EXPECT_FALSE(t->find("88.1/C"));
    EXPECT_FALSE(t->find(""));
    EXPECT_FALSE(t->find("88.1/AB"));
    EXPECT_FALSE(t->find("88.1/"));
    EXPECT_EQ(t->value_bytes(), a->encoded.size() + t->find("88.1/B")->encoded.size());
    EXPECT_GE(t->memory_bytes(), t->value_bytes());
}

TEST(ShardedTable, EmptyTables)
{
    const std::shared_ptr<const Table> built = TableBuilder{}.build();
    const Table unbuilt;
    for (const Table* t : {built.get(), &unbuilt}) {
        EXPECT_EQ(t->size(), 0u);
        EXPECT_FALSE(t->find("88.1/A"));
        EXPECT_FALSE(t->find(""));
        const auto out = burst(*t, {"88.1/A", "", "X"});
        for (const auto& o : out)
            EXPECT_FALSE(o);
        EXPECT_FALSE(t->homes("88.1"));
    }
}

TEST(ShardedTable, RejectsDuplicatesRepeatedIndexesAndOversizeRecords)
{
    TableBuilder b;
    EXPECT_TRUE(b.add("88.1/a", {value(1, "A", "a")}));
    EXPECT_FALSE(b.add("88.1/A", {value(1, "A", "a")}));
    EXPECT_FALSE(b.add("88.1/b", {value(1, "A", "a"), value(1, "B", "b")}));
    EXPECT_FALSE(b.add(std::string(wire::kMaxHandleLength + 1, 'k'), {}));
    std::vector<wire::HandleValue> many;
    for (std::uint32_t i = 0; i <= wire::kMaxValues; ++i)
        many.push_back(value(i, "T", ""));
    EXPECT_FALSE(b.add("88.1/many", many));
    many.pop_back();
    EXPECT_TRUE(b.add("88.1/many", many)); // exactly kMaxValues
    EXPECT_EQ(b.size(), 2u);
    const auto t = std::move(b).build();
    EXPECT_EQ(t->find("88.1/MANY")->values.size(), wire::kMaxValues);
}

TEST(ShardedTable, LongKeysZeroValuesAndLargeValues)
{
    const std::string k255 = "88.1/" + std::string(250, 'L');
    const std::string kmax = "88.1/" + std::string(wire::kMaxHandleLength - 5, 'M');
    TableBuilder b;
    ASSERT_TRUE(b.add(k255, {value(1, "URL", "x")}));
    ASSERT_TRUE(b.add(kmax, {value(1, "URL", "y"), value(7, "BIG", std::string(200000, 'z'))}));
    ASSERT_TRUE(b.add("88.1/empty", {}));
    ASSERT_TRUE(b.add("88.1/e2", {})); // key length 7: exercises the padding to 4
    const auto t = std::move(b).build();
    ASSERT_TRUE(t->find(k255));
    EXPECT_EQ(t->find(k255)->values.size(), 1u);
    EXPECT_FALSE(t->find(k255.substr(0, 254)));
    EXPECT_FALSE(t->find(k255 + "L"));
    const auto m = t->find(kmax);
    ASSERT_TRUE(m);
    expect_record(*m, {value(1, "URL", "y"), value(7, "BIG", std::string(200000, 'z'))});
    for (const char* k : {"88.1/EMPTY", "88.1/E2"}) {
        const auto e = t->find(k);
        ASSERT_TRUE(e) << k;
        EXPECT_TRUE(e->values.empty());
        EXPECT_TRUE(e->encoded.empty());
        EXPECT_TRUE(e->all_public_read);
    }
}

TEST(ShardedTable, AllPublicReadFlag)
{
    TableBuilder b;
    b.add("88.1/p", {value(1, "A", "a"), value(2, "B", "b", wire::perm::kAdminRead)});
    b.add("88.1/q", {value(1, "A", "a"), value(2, "B", "b")});
    b.add("88.1/r", {value(1, "A", "a", wire::perm::kPublicRead)});
    const auto t = std::move(b).build();
    EXPECT_FALSE(t->find("88.1/P")->all_public_read);
    const auto p = t->find("88.1/P");
    EXPECT_EQ(p->values[1].permissions(p->encoded), wire::perm::kAdminRead);
    EXPECT_TRUE(t->find("88.1/Q")->all_public_read);
    EXPECT_TRUE(t->find("88.1/R")->all_public_read);
}

TEST(ShardedTable, KeysSharingATagInOneBucket)
{
    // Keys whose 16-bit tags are equal: with six records the table is one bucket, so every
    // lookup meets the others' tags and must compare keys.
    std::unordered_map<std::uint16_t, std::vector<std::string>> by_tag;
    std::vector<std::string> same_tag;
    for (std::size_t i = 0; same_tag.size() < 8; ++i) {
        std::string k = "88.1/T" + std::to_string(i);
        auto& v = by_tag[static_cast<std::uint16_t>(key_hash(k) >> 32)];
        v.push_back(std::move(k));
        if (v.size() == 8)
            same_tag = v;
    }
    TableBuilder b;
    for (std::size_t i = 0; i < 6; ++i)
        ASSERT_TRUE(b.add(same_tag[i], {value(1, "N", std::to_string(i))}));
    const auto t = std::move(b).build();
    for (std::size_t i = 0; i < 6; ++i) {
        const auto r = t->find(same_tag[i]);
        ASSERT_TRUE(r) << same_tag[i];
        expect_record(*r, {value(1, "N", std::to_string(i))});
    }
    EXPECT_FALSE(t->find(same_tag[6])); // same tag, absent
    EXPECT_FALSE(t->find(same_tag[7]));
    const auto out = burst(*t, same_tag);
    for (std::size_t i = 0; i < same_tag.size(); ++i)
        EXPECT_TRUE(same(out[i], t->find(same_tag[i]))) << i;
}

TEST(ShardedTable, HundredThousandKeysAgainstAnOracle)
{
    std::mt19937_64 rng(7);
    std::unordered_map<std::string, std::vector<wire::HandleValue>> oracle;
    TableBuilder b;
    b.home("88.100.1");
    for (std::size_t i = 0; oracle.size() < 100000; ++i) {
        // Random lengths (some long), random case: the builder normalises.
        std::string key = "88.100.1/";
        const std::size_t len = rng() % 16 == 0 ? 200 + rng() % 400 : 1 + rng() % 24;
        for (std::size_t c = 0; c < len; ++c)
            key.push_back("abcdefXYZ0123456789-._"[rng() % 22]);
        std::vector<wire::HandleValue> values;
        const std::size_t n = rng() % 5; // 0-4 values
        for (std::size_t v = 0; v < n; ++v)
            values.push_back(value(static_cast<std::uint32_t>(v * 3 + 1), v % 2 ? "EMAIL" : "URL",
                                   std::string(rng() % 100, 'd'),
                                   rng() % 8 == 0 ? wire::perm::kAdminRead : wire::perm::kDefault));
        const bool fresh = !oracle.contains(normalize(key));
        ASSERT_EQ(b.add(key, values), fresh) << key;
        if (fresh)
            oracle.emplace(normalize(key), std::move(values));
    }
    const auto t = std::move(b).build();
    ASSERT_EQ(t->size(), oracle.size());
    EXPECT_EQ(t->shard_count(), 2u);

    std::vector<std::string> keys;
    for (const auto& [k, values] : oracle) {
        const auto r = t->find(k);
        ASSERT_TRUE(r) << k;
        expect_record(*r, values);
        keys.push_back(k);
    }
    // Misses: near variants of present keys, and absent random ones.
    std::vector<std::string> mixed;
    for (std::size_t i = 0; i < 50000; ++i) {
        const std::string& k = keys[rng() % keys.size()];
        switch (rng() % 4) {
        case 0: mixed.push_back(k + "Q"); break;
        case 1: mixed.push_back(k.substr(0, k.size() - 1)); break;
        default: mixed.push_back(k); break;
        }
    }
    for (std::size_t i = 0; i < 1000; ++i)
        mixed.push_back("88.100.1/absent-" + std::to_string(rng()));
    std::shuffle(mixed.begin(), mixed.end(), rng);
    mixed.resize(mixed.size() - 7); // not a multiple of the burst
    const auto out = burst(*t, mixed);
    std::size_t hits = 0;
    for (std::size_t i = 0; i < mixed.size(); ++i) {
        const auto one = t->find(mixed[i]);
        ASSERT_EQ(one.has_value(), oracle.contains(mixed[i])) << mixed[i];
        ASSERT_TRUE(same(out[i], one)) << i << " " << mixed[i];
        hits += one.has_value();
    }
    EXPECT_GT(hits, mixed.size() / 3);
    EXPECT_LT(hits, mixed.size());
}

TEST(ShardedTable, BuildIsDeterministic)
{
    auto make = [] {
        TableBuilder b;
        for (std::size_t i = 0; i < 5000; ++i)
            b.add("88.1/d" + std::to_string(i), {value(1, "URL", std::to_string(i * 7))});
        return std::move(b).build();
    };
    const auto t1 = make();
    const auto t2 = make();
    EXPECT_EQ(t1->memory_bytes(), t2->memory_bytes());
    for (std::size_t i = 0; i < 5000; i += 97) {
        const std::string k = "88.1/D" + std::to_string(i);
        const auto a = t1->find(k);
        const auto b = t2->find(k);
        ASSERT_TRUE(a && b);
        EXPECT_TRUE(std::equal(a->encoded.begin(), a->encoded.end(), b->encoded.begin(), b->encoded.end()));
    }
}

TEST(ShardedTable, HomedPrefixes)
{
    TableBuilder b;
    b.home("88.100.1");
    b.home("88.a");
    b.home("88.A"); // the same once normalised
    const auto t = std::move(b).build();
    EXPECT_TRUE(t->homes("88.100.1"));
    EXPECT_TRUE(t->homes("88.A"));
    EXPECT_FALSE(t->homes("88.a")); // callers normalise
    EXPECT_FALSE(t->homes("88.100"));
    EXPECT_EQ(t->homed_count(), 2u);
    EXPECT_EQ(t->homed_prefixes(), (std::vector<std::string>{"88.100.1", "88.A"}));
}

} // namespace
} // namespace idpath::table
