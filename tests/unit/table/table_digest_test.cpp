// table::digest(): equal tables give equal digests however they were made (order, updates,
// shard count); a changed, removed or added record changes the digest and only its bucket.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/table/table_digest.hpp"
#include "tests/unit/table/url_value.hpp"

namespace idpath::table {
namespace {

EncodedRecord record(std::size_t i, const std::string& data = "v")
{
    auto r = encode_record("88.1/D" + std::to_string(i), {test::url_value(1, data + std::to_string(i))});
    EXPECT_TRUE(r);
    return std::move(*r);
}

std::shared_ptr<Table> built(std::size_t from, std::size_t to, bool reverse = false)
{
    TableBuilder b;
    for (std::size_t k = from; k < to; ++k)
        EXPECT_TRUE(b.add(record(reverse ? to - 1 - (k - from) : k)));
    return std::move(b).build();
}

std::size_t differing_buckets(const TableDigest& a, const TableDigest& b)
{
    std::size_t n = 0;
    for (std::size_t i = 0; i < kDigestBuckets; ++i)
        n += a.buckets[i] != b.buckets[i];
    return n;
}

TEST(TableDigest, IndependentOfOrderUpdatesAndLayout)
{
    constexpr std::size_t kRecords = 150000; // more than one shard when built at once
    const TableDigest forward = digest(*built(0, kRecords));
    EXPECT_EQ(forward.records, kRecords);
    EXPECT_EQ(digest(*built(0, kRecords, true)).total(), forward.total());

    // 100 built, the rest upserted: other arenas and one shard, where the full build has several.
    auto grown = built(0, 100);
    Retired retired;
    for (std::size_t k = 100; k < kRecords; ++k)
        grown->upsert(record(k), retired);
    EXPECT_NE(grown->shard_count(), built(0, kRecords)->shard_count());
    const TableDigest g = digest(*grown);
    EXPECT_EQ(g.total(), forward.total());
    EXPECT_EQ(g.buckets, forward.buckets);
    EXPECT_EQ(g.bucket_records, forward.bucket_records);
}

TEST(TableDigest, AChangeShowsInItsBucketOnly)
{
    auto t = built(0, 5000);
    const TableDigest before = digest(*t);
    Retired retired;

    t->upsert(record(42, "changed"), retired);
    const TableDigest changed = digest(*t);
    EXPECT_NE(changed.total(), before.total());
    EXPECT_EQ(differing_buckets(changed, before), 1u);

    t->upsert(record(42), retired); // back as it was
    EXPECT_EQ(digest(*t).total(), before.total());

    ASSERT_TRUE(t->erase("88.1/D7", retired));
    const TableDigest erased = digest(*t);
    EXPECT_EQ(erased.records, before.records - 1);
    EXPECT_EQ(differing_buckets(erased, before), 1u);

    t->upsert(record(7), retired);
    t->upsert(record(99999), retired);
    const TableDigest added = digest(*t);
    EXPECT_EQ(added.records, before.records + 1);
    EXPECT_NE(added.total(), before.total());
}

TEST(TableDigest, EmptyTable)
{
    TableBuilder b;
    const TableDigest d = digest(*std::move(b).build());
    EXPECT_EQ(d.records, 0u);
    EXPECT_EQ(d.total(), TableDigest{}.total());
}

} // namespace
} // namespace idpath::table
