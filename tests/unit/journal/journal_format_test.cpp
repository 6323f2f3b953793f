#include <gtest/gtest.h>

#include <vector>

#include "controlplane/journal/journal_format.hpp"

namespace idpath::journal {
namespace {

Entry entry(std::uint64_t txn, Action a, std::string handle, std::vector<std::uint8_t> values = {})
{
    Entry e;
    e.txn_id = txn;
    e.date_ms = 1700000000000 + static_cast<std::int64_t>(txn);
    e.action = a;
    e.handle = std::move(handle);
    if (a == Action::Create || a == Action::Update) {
        e.value_count = 1;
        e.values = values.empty() ? std::vector<std::uint8_t>{1, 2, 3, 4, 5} : std::move(values);
    }
    return e;
}

/// A journal of five entries, one of each action.
std::vector<std::uint8_t> sample(std::vector<std::size_t>* ends = nullptr)
{
    std::vector<std::uint8_t> f = file_header();
    const Action actions[] = {Action::Home, Action::Create, Action::Update, Action::Delete, Action::Unhome};
    std::uint64_t txn = 1;
    for (Action a : actions) {
        encode_entry(entry(txn++, a, a == Action::Home || a == Action::Unhome ? "88.100.1" : "88.100.1/x"), f);
        if (ends)
            ends->push_back(f.size());
    }
    return f;
}

bool same(const Entry& a, const Entry& b)
{
    return a.txn_id == b.txn_id && a.date_ms == b.date_ms && a.action == b.action && a.handle == b.handle &&
           a.value_count == b.value_count && a.values == b.values;
}

TEST(JournalFormat, RoundTrip)
{
    std::vector<std::uint8_t> f = file_header();
    const Entry e = entry(7, Action::Update, "88.100.1/abc", {9, 8, 7, 6});
    encode_entry(e, f);
    Decoded d;
    std::string why;
    ASSERT_EQ(decode_entry(ByteSpan(f).subspan(kFileHeaderBytes), d, why), DecodeStatus::Ok) << why;
    EXPECT_TRUE(same(d.entry, e));
    EXPECT_EQ(d.bytes, f.size() - kFileHeaderBytes);
}

TEST(JournalFormat, ScanFindsEveryEntry)
{
    const auto f = sample();
    std::vector<Entry> seen;
    auto r = scan_journal(f, [&](const Entry& e) { seen.push_back(e); });
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->entries, 5u);
    EXPECT_EQ(r->first_txn, 1u);
    EXPECT_EQ(r->last_txn, 5u);
    EXPECT_EQ(r->valid_bytes, f.size());
    EXPECT_EQ(r->torn_bytes, 0u);
    ASSERT_EQ(seen.size(), 5u);
    EXPECT_EQ(seen[1].action, Action::Create);
    EXPECT_EQ(seen[1].values, (std::vector<std::uint8_t>{1, 2, 3, 4, 5}));
}

TEST(JournalFormat, EveryTruncationRecoversToTheLastWholeEntry)
{
    std::vector<std::size_t> ends;
    const auto f = sample(&ends);
    for (std::size_t n = 0; n < f.size(); ++n) {
        auto r = scan_journal(ByteSpan(f).first(n), {});
        ASSERT_TRUE(r) << "cut at " << n << ": " << r.error();
        if (n < kFileHeaderBytes) {
            EXPECT_TRUE(r->header_missing) << n;
            continue;
        }
        std::size_t whole = kFileHeaderBytes;
        std::uint64_t entries = 0;
        for (std::size_t end : ends)
            if (end <= n) {
                whole = end;
                ++entries;
            }
        EXPECT_EQ(r->valid_bytes, whole) << n;
        EXPECT_EQ(r->entries, entries) << n;
        EXPECT_EQ(r->torn_bytes, n - whole) << n;
    }
}

TEST(JournalFormat, ZerosAfterTheLastEntryAreATornTail)
{
    auto f = sample();
    const std::size_t size = f.size();
    f.resize(size + 100, 0);
    auto r = scan_journal(f, {});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->valid_bytes, size);
    EXPECT_EQ(r->torn_bytes, 100u);
}

TEST(JournalFormat, DamagedLastEntryIsATornTail)
{
    std::vector<std::size_t> ends;
    auto f = sample(&ends);
    f[f.size() - 3] ^= 0x40;
    auto r = scan_journal(f, {});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->entries, 4u);
    EXPECT_EQ(r->valid_bytes, ends[3]);
}

TEST(JournalFormat, FlippedByteInTheMiddleIsRefusedWithItsOffset)
{
    std::vector<std::size_t> ends;
    const auto good = sample(&ends);
    // Every byte of entries 2..4 (entry 5 follows them), each flip on its own.
    for (std::size_t at = ends[0]; at < ends[3]; ++at) {
        auto f = good;
        f[at] ^= 0x01;
        auto r = scan_journal(f, {});
        ASSERT_FALSE(r) << "flip at " << at;
        std::size_t entry_start = ends[0];
        for (std::size_t i = 0; i + 1 < ends.size(); ++i)
            if (ends[i] <= at)
                entry_start = ends[i];
        EXPECT_NE(r.error().find("offset " + std::to_string(entry_start)), std::string::npos)
            << "flip at " << at << ": " << r.error();
    }
}

TEST(JournalFormat, IdsMustBeConsecutive)
{
    std::vector<std::uint8_t> f = file_header();
    encode_entry(entry(1, Action::Delete, "a/b"), f);
    const std::size_t second = f.size();
    encode_entry(entry(3, Action::Delete, "a/c"), f);
    encode_entry(entry(4, Action::Delete, "a/d"), f);
    auto r = scan_journal(f, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("offset " + std::to_string(second)), std::string::npos) << r.error();
}

TEST(JournalFormat, BadHeaderIsRefused)
{
    auto f = sample();
    f[0] = 'X';
    EXPECT_FALSE(scan_journal(f, {}));
    f = sample();
    f[11] = 9; // version
    EXPECT_FALSE(scan_journal(f, {}));
}

/// The header idpathd wrote before segments: version 1, no first txn.
std::vector<std::uint8_t> v1_header()
{
    return {'I', 'D', 'P', 'J', 'R', 'N', 'L', '1', 0, 0, 0, 1, 0, 0, 0, 0};
}

TEST(JournalFormat, Version1JournalsAreStillRead)
{
    auto f = v1_header();
    encode_entry(entry(1, Action::Delete, "a/b"), f);
    encode_entry(entry(2, Action::Create, "a/c"), f);
    auto r = scan_journal(f, {});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->header_bytes, kFileHeaderV1Bytes);
    EXPECT_EQ(r->start_txn, 0u);
    EXPECT_EQ(r->first_txn, 1u);
    EXPECT_EQ(r->last_txn, 2u);
    EXPECT_EQ(r->valid_bytes, f.size());
    // Cut inside its header: torn at creation, as before.
    for (std::size_t n = 0; n < kFileHeaderV1Bytes; ++n) {
        auto cut = scan_journal(ByteSpan(f).first(n), {});
        ASSERT_TRUE(cut) << n << ": " << cut.error();
        EXPECT_TRUE(cut->header_missing) << n;
    }
}

TEST(JournalFormat, TheHeaderSaysWhereTheFileStarts)
{
    auto f = file_header(41);
    ASSERT_EQ(f.size(), kFileHeaderBytes);
    auto empty = scan_journal(f, {});
    ASSERT_TRUE(empty) << empty.error();
    EXPECT_EQ(empty->start_txn, 41u);
    EXPECT_EQ(empty->entries, 0u);
    EXPECT_EQ(empty->header_bytes, kFileHeaderBytes);

    encode_entry(entry(41, Action::Delete, "a/b"), f);
    encode_entry(entry(42, Action::Delete, "a/c"), f);
    auto r = scan_journal(f, {});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->first_txn, 41u);
    EXPECT_EQ(r->last_txn, 42u);

    // A first entry other than the header's first txn is refused at the first entry.
    auto g = file_header(41);
    encode_entry(entry(42, Action::Delete, "a/c"), g);
    auto bad = scan_journal(g, {});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("offset 24: txn id 42 where 41 was expected"), std::string::npos) << bad.error();
    EXPECT_FALSE(scan_journal(file_header(0), {})) << "txn ids start at 1";
}

TEST(JournalFormat, AVersion2HeaderCutShortIsTornAtCreation)
{
    const auto head = file_header(7);
    for (std::size_t n = 0; n < kFileHeaderBytes; ++n) {
        auto r = scan_journal(ByteSpan(head).first(n), {});
        ASSERT_TRUE(r) << n << ": " << r.error();
        EXPECT_TRUE(r->header_missing) << n;
        EXPECT_EQ(r->torn_bytes, n);
    }
    auto other = head;
    other[2] = 'X';
    EXPECT_FALSE(scan_journal(ByteSpan(other).first(10), {})) << "not the start of a header";
}

} // namespace
} // namespace idpath::journal
