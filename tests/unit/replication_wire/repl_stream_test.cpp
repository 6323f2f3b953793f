#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controlplane/replication/repl_stream.hpp"
#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::replication {
namespace {

std::vector<std::uint8_t> value_bytes(std::uint32_t index, std::string type, std::string data)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1700000000;
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    std::vector<std::uint8_t> out(wire::encoded_size(v));
    ByteWriter w(out);
    wire::encode_value(w, v);
    EXPECT_TRUE(w.ok());
    return out;
}

/// Two values as the table holds them: concatenated, no lengths.
std::vector<std::uint8_t> two_values()
{
    auto a = value_bytes(1, "URL", "https://example.org/a");
    const auto b = value_bytes(100, "HS_ADMIN", std::string(30, 'x'));
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

journal::Entry txn(std::uint64_t id, journal::Action a, std::string handle)
{
    journal::Entry e;
    e.txn_id = id;
    e.date_ms = 1700000000000 + static_cast<std::int64_t>(id);
    e.action = a;
    e.handle = std::move(handle);
    if (a == journal::Action::Create || a == journal::Action::Update) {
        e.value_count = 2;
        e.values = two_values();
    }
    return e;
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v)
{
    std::uint8_t b[4];
    store_be32(b, v);
    out.insert(out.end(), b, b + 4);
}

/// Appends a fake signature over out[from, end) when `sign` (its bytes name the block's size).
void sign(bool on, std::size_t& from, std::vector<std::uint8_t>& out)
{
    if (!on)
        return;
    const std::vector<std::uint8_t> sig(3 + (out.size() - from) % 5, static_cast<std::uint8_t>(out.size() - from));
    append_block_signature(sig, out);
    from = out.size();
}

std::vector<journal::Entry> sample_txns()
{
    return {txn(1, journal::Action::Home, "0.NA/88.100.1"), txn(2, journal::Action::Create, "88.100.1/A"),
            txn(3, journal::Action::Update, "88.100.1/A"), txn(4, journal::Action::Delete, "88.100.1/B"),
            txn(5, journal::Action::Unhome, "0.NA/88.100.2")};
}

std::vector<std::uint8_t> txn_stream(bool signed_blocks, std::vector<std::size_t>* ends = nullptr)
{
    std::vector<std::uint8_t> s;
    std::size_t from = 0;
    encode_txn_header({}, s);
    sign(signed_blocks, from, s);
    if (ends)
        ends->push_back(s.size());
    for (const auto& e : sample_txns()) {
        encode_txn_record(e, s);
        sign(signed_blocks, from, s);
        if (ends)
            ends->push_back(s.size());
    }
    encode_txn_end({1700000009999}, s);
    sign(signed_blocks, from, s);
    if (ends)
        ends->push_back(s.size());
    return s;
}

std::vector<std::uint8_t> dump_stream(bool signed_blocks)
{
    std::vector<std::uint8_t> s;
    std::size_t from = 0;
    encode_dump_header(s);
    sign(signed_blocks, from, s);
    encode_dump_info({1700000000000, 77}, s);
    sign(signed_blocks, from, s);
    const auto v = two_values();
    encode_dump_handle("88.100.1/A", 2, v, s);
    sign(signed_blocks, from, s);
    // Types 3, 4, 5 (a source that replicates others): parsed and skipped.
    for (const std::uint8_t t : {std::uint8_t{3}, std::uint8_t{4}}) {
        s.push_back(t);
        put_u32(s, 3);
        s.insert(s.end(), {'x', 'y', 'z'});
        s.insert(s.end(), 12, 0);
        sign(signed_blocks, from, s);
    }
    s.push_back(5);
    put_u32(s, 4);
    s.insert(s.end(), {'a', '\t', 'b', '\n'});
    sign(signed_blocks, from, s);
    encode_dump_homed_prefix("0.NA/88.100.1", s);
    sign(signed_blocks, from, s);
    encode_dump_done(s);
    return s;
}

template <class Decoder, class Item>
std::vector<Item> drain(Decoder& d, std::string* error = nullptr, std::vector<SignedBlock>* blocks = nullptr)
{
    std::vector<Item> items;
    for (;;) {
        Item it;
        auto r = d.next(it);
        if (!r) {
            if (error)
                *error = r.error();
            else
                ADD_FAILURE() << r.error();
            return items;
        }
        if (!*r)
            return items;
        items.push_back(std::move(it));
        if (blocks)
            blocks->push_back(d.last_block());
    }
}

std::vector<TxnItem> decode_txn(ByteSpan s, StreamLimits lim = {}, std::size_t piece = 0, std::string* error = nullptr)
{
    TxnStreamDecoder d(lim);
    std::vector<TxnItem> items;
    if (piece == 0)
        piece = s.size() + 1;
    for (std::size_t at = 0; at < s.size(); at += piece) {
        d.feed(s.subspan(at, std::min(piece, s.size() - at)));
        std::string e;
        auto more = drain<TxnStreamDecoder, TxnItem>(d, &e);
        items.insert(items.end(), more.begin(), more.end());
        if (!e.empty()) {
            if (error)
                *error = e;
            else
                ADD_FAILURE() << e;
            break;
        }
    }
    return items;
}

std::vector<DumpItem> decode_dump(ByteSpan s, StreamLimits lim = {}, std::size_t piece = 0, std::string* error = nullptr)
{
    DumpStreamDecoder d(lim);
    std::vector<DumpItem> items;
    if (piece == 0)
        piece = s.size() + 1;
    for (std::size_t at = 0; at < s.size(); at += piece) {
        d.feed(s.subspan(at, std::min(piece, s.size() - at)));
        std::string e;
        auto more = drain<DumpStreamDecoder, DumpItem>(d, &e);
        items.insert(items.end(), more.begin(), more.end());
        if (!e.empty()) {
            if (error)
                *error = e;
            else
                ADD_FAILURE() << e;
            break;
        }
    }
    return items;
}

bool same(const TxnItem& a, const TxnItem& b)
{
    if (a.index() != b.index())
        return false;
    if (auto* h = std::get_if<TxnStreamHeader>(&a))
        return h->data_format == std::get<TxnStreamHeader>(b).data_format && h->status == std::get<TxnStreamHeader>(b).status;
    if (auto* e = std::get_if<TxnEnd>(&a))
        return e->date_ms == std::get<TxnEnd>(b).date_ms;
    const auto& x = std::get<TxnRecord>(a);
    const auto& y = std::get<TxnRecord>(b);
    return x.txn_id == y.txn_id && x.date_ms == y.date_ms && x.action == y.action && x.handle == y.handle &&
           x.value_count == y.value_count && x.values == y.values;
}

bool same(const DumpItem& a, const DumpItem& b)
{
    if (a.index() != b.index())
        return false;
    if (auto* i = std::get_if<DumpInfo>(&a))
        return i->date_ms == std::get<DumpInfo>(b).date_ms && i->last_txn_id == std::get<DumpInfo>(b).last_txn_id;
    if (auto* h = std::get_if<DumpHandle>(&a))
        return h->handle == std::get<DumpHandle>(b).handle && h->values.count == std::get<DumpHandle>(b).values.count &&
               h->values.encoded == std::get<DumpHandle>(b).values.encoded;
    if (auto* p = std::get_if<DumpHomedPrefix>(&a))
        return p->prefix_handle == std::get<DumpHomedPrefix>(b).prefix_handle;
    if (auto* s = std::get_if<DumpSkipped>(&a))
        return s->type == std::get<DumpSkipped>(b).type;
    return true;
}

TEST(TxnStream, RoundTrip)
{
    const auto s = txn_stream(false);
    const auto items = decode_txn(s);
    ASSERT_EQ(items.size(), 7u);
    EXPECT_EQ(std::get<TxnStreamHeader>(items[0]).status, kStatusSendingTransactions);
    const auto want = sample_txns();
    for (std::size_t i = 0; i < want.size(); ++i)
        EXPECT_TRUE(same(items[i + 1], TxnItem{want[i]})) << i;
    EXPECT_EQ(std::get<TxnEnd>(items[6]).date_ms, 1700000009999);
}

TEST(TxnStream, RecordBytesAsHandleNetWritesThem)
{
    std::vector<std::uint8_t> s;
    encode_txn_record(txn(2, journal::Action::Delete, "88.100.1/B"), s);
    EXPECT_EQ(s, (std::vector<std::uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 10, '8', '8', '.', '1', '0', '0', '.', '1',
                                            '/', 'B', 2, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x02}));
    s.clear();
    const auto e = txn(3, journal::Action::Create, "h/1");
    encode_txn_record(e, s);
    // ... date, int4 2, int4 len(value 1), value 1, int4 len(value 2), value 2.
    const std::size_t v1 = value_bytes(1, "URL", "https://example.org/a").size();
    ASSERT_EQ(s.size(), 1 + 8 + 4 + 3 + 1 + 8 + 4 + 4 + e.values.size() + 4);
    EXPECT_EQ(load_be32(s.data() + 25), 2u);
    EXPECT_EQ(load_be32(s.data() + 29), v1);
    EXPECT_EQ(load_be32(s.data() + 33 + v1), e.values.size() - v1);
}

TEST(TxnStream, AnyPieceSizeGivesTheSameItems)
{
    for (bool signed_blocks : {false, true}) {
        const auto s = txn_stream(signed_blocks);
        StreamLimits lim;
        lim.signed_blocks = signed_blocks;
        const auto whole = decode_txn(s, lim);
        ASSERT_EQ(whole.size(), 7u);
        for (std::size_t piece : {1, 2, 3, 7, 64}) {
            const auto items = decode_txn(s, lim, piece);
            ASSERT_EQ(items.size(), whole.size()) << piece;
            for (std::size_t i = 0; i < items.size(); ++i)
                EXPECT_TRUE(same(items[i], whole[i])) << piece << " " << i;
        }
    }
}

TEST(TxnStream, EveryTruncationYieldsTheWholeItemsBeforeIt)
{
    std::vector<std::size_t> ends;
    const auto s = txn_stream(false, &ends);
    for (std::size_t n = 0; n <= s.size(); ++n) {
        std::string error;
        const auto items = decode_txn(ByteSpan(s).first(n), {}, 0, &error);
        EXPECT_TRUE(error.empty()) << n << ": " << error;
        std::size_t whole = 0;
        while (whole < ends.size() && ends[whole] <= n)
            ++whole;
        EXPECT_EQ(items.size(), whole) << n;
    }
}

TEST(TxnStream, SignedBlocksSpanEachItem)
{
    std::vector<std::size_t> ends;
    const auto s = txn_stream(true, &ends);
    StreamLimits lim;
    lim.signed_blocks = true;
    TxnStreamDecoder d(lim);
    d.feed(s);
    std::vector<SignedBlock> blocks;
    const auto items = drain<TxnStreamDecoder, TxnItem>(d, nullptr, &blocks);
    ASSERT_EQ(items.size(), 7u);
    std::size_t from = 0;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        ASSERT_TRUE(blocks[i].present);
        const std::size_t sig = blocks[i].signature.size();
        EXPECT_EQ(blocks[i].data.size() + 4 + sig, ends[i] - from) << i;
        EXPECT_TRUE(std::equal(blocks[i].data.begin(), blocks[i].data.end(), s.begin() + static_cast<std::ptrdiff_t>(from)));
        EXPECT_EQ(blocks[i].signature[0], static_cast<std::uint8_t>(blocks[i].data.size()));
        from = ends[i];
    }
    EXPECT_EQ(d.offset(), s.size());
    // The unsigned decoder reads the first signature's length as a record type.
    std::string error;
    decode_txn(s, {}, 0, &error);
    EXPECT_NE(error, "");
}

TEST(TxnStream, NullValuesAreSkipped)
{
    auto e = txn(2, journal::Action::Create, "88.100.1/A");
    std::vector<std::uint8_t> s;
    encode_txn_header({}, s);
    encode_txn_record(e, s);
    // Add a null value: count 2 -> 3, then int4 0 at the end of the record.
    const std::size_t count_at = 8 + 1 + 8 + 4 + e.handle.size() + 1 + 8;
    ASSERT_EQ(load_be32(s.data() + count_at), 2u);
    store_be32(s.data() + count_at, 3);
    put_u32(s, 0);
    encode_txn_end({5}, s);
    const auto items = decode_txn(s, {}, 1);
    ASSERT_EQ(items.size(), 3u);
    const auto& r = std::get<TxnRecord>(items[1]);
    EXPECT_EQ(r.value_count, 2u);
    EXPECT_EQ(r.values, e.values);
}

TEST(TxnStream, ErrorsNameTheOffset)
{
    std::vector<std::uint8_t> s;
    encode_txn_header({}, s);
    s.push_back(1);
    s.insert(s.end(), 8, 0);
    put_u32(s, 99999);
    std::string error;
    decode_txn(s, {}, 0, &error);
    EXPECT_EQ(error, "txn stream offset 17: handle of 99999 octets exceeds 4096");

    s.resize(17);
    put_u32(s, 0);
    decode_txn(s, {}, 0, &error);
    EXPECT_EQ(error, "txn stream offset 17: empty handle");

    s = {};
    encode_txn_header({}, s);
    encode_txn_record(txn(1, journal::Action::Delete, "h"), s);
    s[8 + 1 + 8 + 4 + 1] = 6;
    decode_txn(s, {}, 0, &error);
    EXPECT_EQ(error, "txn stream offset 22: unsupported action 6 (delete all)");
    s[8 + 1 + 8 + 4 + 1] = 0;
    decode_txn(s, {}, 0, &error);
    EXPECT_EQ(error, "txn stream offset 22: action 0 unknown");

    s = {};
    encode_txn_header({}, s);
    s.push_back(9);
    decode_txn(s, {}, 0, &error);
    EXPECT_EQ(error, "txn stream offset 8: record type 9 unknown");

    s = {};
    encode_txn_header({2, 2}, s);
    decode_txn(s, {}, 0, &error);
    EXPECT_EQ(error, "txn stream offset 0: data format 2 not supported (expected 1)");
    s = {};
    encode_txn_header({1, 3}, s);
    decode_txn(s, {}, 0, &error);
    EXPECT_EQ(error, "txn stream offset 4: status 3 unknown");

    s = {};
    encode_txn_header({1, kStatusNeedToRedump}, s);
    encode_txn_end({3}, s);
    s.push_back(0);
    const auto items = decode_txn(s, {}, 0, &error);
    EXPECT_EQ(items.size(), 2u);
    EXPECT_EQ(error, "txn stream offset 17: data after the end record");
}

TEST(TxnStream, Limits)
{
    const auto s = txn_stream(false);
    StreamLimits lim;
    std::string error;
    lim.max_handle = 5;
    decode_txn(s, lim, 0, &error);
    EXPECT_EQ(error, "txn stream offset 17: handle of 13 octets exceeds 5");

    lim = {};
    lim.max_values = 1;
    error.clear();
    decode_txn(s, lim, 0, &error);
    EXPECT_NE(error.find(": 2 values exceed 1"), std::string::npos) << error;

    lim = {};
    lim.max_value_bytes = 40;
    error.clear();
    decode_txn(s, lim, 0, &error);
    EXPECT_NE(error.find("octets exceeds 40"), std::string::npos) << error;

    lim = {};
    lim.signed_blocks = true;
    lim.max_signature = 2;
    error.clear();
    decode_txn(txn_stream(true), lim, 0, &error);
    EXPECT_EQ(error, "txn stream offset 8: signature of 6 octets exceeds 2");
}

TEST(TxnStream, AnUnfinishedRecordIsBounded)
{
    // A record announcing a 1000-octet handle, then never finishing it: waiting is fine while
    // little is buffered, an error once more than max_record_bytes wait.
    std::vector<std::uint8_t> s;
    encode_txn_header({}, s);
    s.push_back(1);
    s.insert(s.end(), 8, 0);
    s.insert(s.end(), {0, 0, 0x03, 0xe8});
    StreamLimits lim;
    lim.max_record_bytes = 100;
    TxnStreamDecoder d(lim);
    d.feed(s);
    TxnItem item;
    auto r = d.next(item);
    ASSERT_TRUE(r && *r); // the header
    r = d.next(item);
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r);
    d.feed(std::vector<std::uint8_t>(200, 'a'));
    r = d.next(item);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "txn stream offset 8: record exceeds 100 octets");
}

TEST(TxnStream, MalformedValueIsRefused)
{
    auto e = txn(2, journal::Action::Create, "88.100.1/A");
    std::vector<std::uint8_t> s;
    encode_txn_header({}, s);
    encode_txn_record(e, s);
    const std::size_t first_len = 8 + 1 + 8 + 4 + e.handle.size() + 1 + 8 + 4;
    // Claim one more octet than the value has: the value's own encoding ends early.
    store_be32(s.data() + first_len, load_be32(s.data() + first_len) + 1);
    std::string error;
    decode_txn(s, {}, 0, &error);
    EXPECT_NE(error.find("txn stream offset " + std::to_string(first_len) + ": value 0"), std::string::npos) << error;
}

TEST(DumpStream, RoundTripAndPieces)
{
    for (bool signed_blocks : {false, true}) {
        StreamLimits lim;
        lim.signed_blocks = signed_blocks;
        const auto s = dump_stream(signed_blocks);
        const auto items = decode_dump(s, lim);
        ASSERT_EQ(items.size(), 7u);
        EXPECT_EQ(std::get<DumpInfo>(items[0]).last_txn_id, 77u);
        EXPECT_EQ(std::get<DumpHandle>(items[1]).handle, "88.100.1/A");
        EXPECT_EQ(std::get<DumpHandle>(items[1]).values.count, 2u);
        EXPECT_EQ(std::get<DumpHandle>(items[1]).values.encoded, two_values());
        EXPECT_EQ(std::get<DumpSkipped>(items[2]).type, 3);
        EXPECT_EQ(std::get<DumpSkipped>(items[3]).type, 4);
        EXPECT_EQ(std::get<DumpSkipped>(items[4]).type, 5);
        EXPECT_EQ(std::get<DumpHomedPrefix>(items[5]).prefix_handle, "0.NA/88.100.1");
        EXPECT_TRUE(std::holds_alternative<DumpDone>(items[6]));
        for (std::size_t piece : {1, 3, 16}) {
            const auto again = decode_dump(s, lim, piece);
            ASSERT_EQ(again.size(), items.size());
            for (std::size_t i = 0; i < items.size(); ++i)
                EXPECT_TRUE(same(again[i], items[i])) << i;
        }
        for (std::size_t n = 0; n < s.size(); ++n) {
            std::string error;
            const auto part = decode_dump(ByteSpan(s).first(n), lim, 0, &error);
            EXPECT_TRUE(error.empty()) << n << ": " << error;
            EXPECT_LT(part.size(), items.size()) << n;
        }
    }
}

TEST(DumpStream, DoneIsNotSigned)
{
    StreamLimits lim;
    lim.signed_blocks = true;
    const auto s = dump_stream(true);
    DumpStreamDecoder d(lim);
    d.feed(s);
    std::vector<SignedBlock> blocks;
    const auto items = drain<DumpStreamDecoder, DumpItem>(d, nullptr, &blocks);
    ASSERT_EQ(items.size(), 7u);
    for (std::size_t i = 0; i + 1 < blocks.size(); ++i)
        EXPECT_TRUE(blocks[i].present) << i;
    EXPECT_FALSE(blocks.back().present);
    EXPECT_EQ(blocks[0].data.size(), 17u); // 00 | int8 date | int8 txn id
    EXPECT_EQ(blocks[0].data[0], 0);
    EXPECT_EQ(d.offset(), s.size());
    // Anything after ABSOLUTELY_DONE is refused.
    d.feed(std::vector<std::uint8_t>{0});
    DumpItem it;
    auto r = d.next(it);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "dump stream offset " + std::to_string(s.size()) + ": data after the end record");
}

TEST(DumpStream, Errors)
{
    std::vector<std::uint8_t> s;
    put_u32(s, 1);
    std::string error;
    decode_dump(s, {}, 0, &error);
    EXPECT_EQ(error, "dump stream offset 0: data format 1 not supported (expected 2)");

    s.clear();
    encode_dump_header(s);
    s.push_back(7);
    decode_dump(s, {}, 0, &error);
    EXPECT_EQ(error, "dump stream offset 4: record type 7 unknown");

    s.clear();
    encode_dump_header(s);
    encode_dump_homed_prefix("", s);
    decode_dump(s, {}, 0, &error);
    EXPECT_EQ(error, "dump stream offset 5: empty prefix handle");

    s.clear();
    encode_dump_header(s);
    s.push_back(1);
    put_u32(s, 1);
    s.push_back('h');
    put_u32(s, 70000);
    decode_dump(s, {}, 0, &error);
    EXPECT_EQ(error, "dump stream offset 10: 70000 values exceed 65536");
}

TEST(PrefixHandles, BothWays)
{
    EXPECT_EQ(prefix_from_prefix_handle("0.NA/88.100.1"), "88.100.1");
    EXPECT_EQ(prefix_from_prefix_handle("0.na/88.Ab"), "88.Ab");
    EXPECT_EQ(prefix_from_prefix_handle("88.100.1"), "88.100.1");
    EXPECT_EQ(prefix_from_prefix_handle("0.NA"), "0.NA");
    EXPECT_EQ(prefix_handle_of("88.100.1"), "0.NA/88.100.1");
}

} // namespace
} // namespace idpath::replication
