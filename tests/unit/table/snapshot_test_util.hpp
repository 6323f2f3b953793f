#pragma once
// Test tables for the snapshot tests (tests/unit/table, tests/unit/snapshot): random records with
// an oracle of what each key must find, and a comparison of two tables octet for octet.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::table::testing {

/// The values of one random handle: 1..4 values, one of them private at times.
inline std::vector<wire::HandleValue> random_values(std::mt19937_64& rng, std::size_t i)
{
    std::vector<wire::HandleValue> values;
    const std::size_t n = 1 + rng() % 4;
    for (std::size_t k = 0; k < n; ++k) {
        wire::HandleValue v;
        v.index = static_cast<std::uint32_t>(k == 0 ? 1 : 100 + k);
        v.timestamp = 1700000000 + static_cast<std::uint32_t>(i);
        v.type = k == 0 ? "URL" : "T" + std::to_string(rng() % 7);
        const std::string data = "https://example.org/" + std::to_string(i) + std::string(rng() % 60, 'x');
        v.data.assign(data.begin(), data.end());
        if (rng() % 5 == 0)
            v.permissions = wire::perm::kAdminRead | wire::perm::kAdminWrite;
        values.push_back(std::move(v));
    }
    return values;
}

/// A table and what each of its normalised keys must find (encoded values in index order).
struct Fixture {
    std::shared_ptr<Table> table;
    std::map<std::string, std::vector<std::uint8_t>> oracle;
    std::set<std::string> absent; // erased keys
    Retired retired;              // kept: the test's readers may still hold old memory
};

inline std::vector<std::uint8_t> encoded_of(std::vector<wire::HandleValue> values)
{
    std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    std::size_t n = 0;
    for (const auto& v : values)
        n += wire::encoded_size(v);
    std::vector<std::uint8_t> out(n);
    ByteWriter w(out);
    for (const auto& v : values)
        wire::encode_value(w, v);
    return out;
}

inline std::string handle_of(std::size_t i) { return (i % 3 == 0 ? "88.100.1/sn-" : "86.5/Dev-") + std::to_string(i); }

/// `n` random handles under two homed prefixes.
inline Fixture random_table(std::size_t n, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    Fixture f;
    TableBuilder b;
    b.home("88.100.1");
    b.home("86.5");
    for (std::size_t i = 0; i < n; ++i) {
        auto values = random_values(rng, i);
        f.oracle[normalize(handle_of(i))] = encoded_of(values);
        EXPECT_TRUE(b.add(handle_of(i), std::move(values)));
    }
    f.table = std::move(b).build();
    return f;
}

/// Replaces, erases and adds records, so the shards carry tombstones and garbage.
inline void churn(Fixture& f, std::size_t n, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = rng() % (n * 2);
        const std::string key = normalize(handle_of(i));
        if (rng() % 3 == 0) {
            const bool had = f.oracle.erase(key) > 0;
            EXPECT_EQ(f.table->erase(key, f.retired), had);
            f.absent.insert(key);
        } else {
            auto values = random_values(rng, i + 1000000);
            f.oracle[key] = encoded_of(values);
            f.absent.erase(key);
            auto rec = encode_record(handle_of(i), std::move(values));
            ASSERT_TRUE(rec.ok());
            f.table->upsert(*rec, f.retired);
        }
    }
    f.table->home("20.500", f.retired);
    f.table->unhome("86.5", f.retired);
}

/// `t` finds exactly what the oracle says, nothing for erased keys, and homes what `want` homes.
inline void expect_content(const Table& t, const Fixture& want)
{
    EXPECT_EQ(t.size(), want.oracle.size());
    for (const auto& [key, encoded] : want.oracle) {
        const auto r = t.find(key);
        ASSERT_TRUE(r.has_value()) << key;
        ASSERT_EQ(std::vector<std::uint8_t>(r->encoded.begin(), r->encoded.end()), encoded) << key;
    }
    for (const auto& key : want.absent)
        EXPECT_FALSE(t.find(key).has_value()) << key;
    auto a = t.homed_prefixes();
    auto b = want.table->homed_prefixes();
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b);
}

/// Same figures and the same shards, octet for octet.
inline void expect_same_image(const Table& a, const Table& b)
{
    EXPECT_EQ(a.size(), b.size());
    EXPECT_EQ(a.value_bytes(), b.value_bytes());
    EXPECT_EQ(a.homed_count(), b.homed_count());
    ASSERT_EQ(a.shard_bits(), b.shard_bits());
    for (std::size_t s = 0; s < a.shard_count(); ++s) {
        const ShardImage x = a.shard_image(s);
        const ShardImage y = b.shard_image(s);
        EXPECT_EQ(x.bucket_count, y.bucket_count) << "shard " << s;
        EXPECT_EQ(x.records, y.records) << "shard " << s;
        EXPECT_EQ(x.tombstones, y.tombstones) << "shard " << s;
        EXPECT_EQ(x.value_bytes, y.value_bytes) << "shard " << s;
        EXPECT_EQ(x.garbage_bytes, y.garbage_bytes) << "shard " << s;
        EXPECT_TRUE(std::equal(x.buckets.begin(), x.buckets.end(), y.buckets.begin(), y.buckets.end())) << "shard " << s;
        EXPECT_TRUE(std::equal(x.arena.begin(), x.arena.end(), y.arena.begin(), y.arena.end())) << "shard " << s;
    }
}

} // namespace idpath::table::testing
