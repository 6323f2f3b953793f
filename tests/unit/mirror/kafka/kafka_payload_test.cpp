// How a batch is cut into Kafka messages (controlplane/mirror/kafka/kafka_payload.hpp): one
// source per message, per-source order kept, counts and octet limits honoured, and every piece
// recoverable as a batch to hand back.

#include <gtest/gtest.h>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/kafka/kafka_payload.hpp"
#include "tests/unit/mirror/kafka/kafka_test_util.hpp"

namespace idpath::mirror {
namespace {

using test::kOrigin;
using test::make_batch;

constexpr std::size_t kNoLimit = 1 << 30;

/// Every piece's items, recovered, in piece order: (source, seq) per source.
std::map<std::uint16_t, std::vector<std::uint64_t>> recovered(const Payload& p, KafkaFormat format,
                                                              std::uint64_t batch_id)
{
    std::map<std::uint16_t, std::vector<std::uint64_t>> seqs;
    for (const Piece& piece : p.pieces) {
        auto b = piece_batch(p, piece, format);
        EXPECT_TRUE(b.ok()) << (b ? "" : b.error());
        if (!b)
            continue;
        EXPECT_EQ(b->id, batch_id);
        EXPECT_EQ(b->size(), piece.items);
        for (const auto& r : b->records) {
            EXPECT_EQ(r.source, piece.source);
            EXPECT_FALSE(piece.events);
            seqs[r.source].push_back(r.seq);
        }
        for (const auto& e : b->events) {
            EXPECT_TRUE(piece.events);
            seqs[kControlSource].push_back(e.seq);
        }
    }
    return seqs;
}

std::vector<std::uint64_t> one_to(std::uint64_t n)
{
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = 1; i <= n; ++i)
        v.push_back(i);
    return v;
}

TEST(KafkaPayload, BinaryOneSourceIsOneMessageOfTheWholeBatch)
{
    std::map<std::uint16_t, std::uint64_t> seq;
    const Batch b = make_batch(9, 1, 500, 0, seq);
    Payload p;
    cut_messages(b, kOrigin, KafkaFormat::Binary, 0, kNoLimit, p);
    ASSERT_EQ(p.pieces.size(), 1u);
    std::string whole;
    encode_binary(b, kOrigin, whole);
    EXPECT_EQ(p.bytes, whole);
    EXPECT_EQ(p.pieces[0].items, 500u);
}

TEST(KafkaPayload, BinaryMessagesNeverMixSourcesAndKeepOrder)
{
    std::map<std::uint16_t, std::uint64_t> seq;
    const Batch b = make_batch(3, 4, 100, 5, seq);
    Payload p;
    cut_messages(b, kOrigin, KafkaFormat::Binary, 0, kNoLimit, p);
    ASSERT_EQ(p.pieces.size(), 5u); // four sources, then the events
    EXPECT_EQ(p.pieces[4].source, kControlSource);
    const auto seqs = recovered(p, KafkaFormat::Binary, 3);
    for (std::uint16_t s = 0; s < 4; ++s)
        EXPECT_EQ(seqs.at(s), one_to(100));
    EXPECT_EQ(seqs.at(kControlSource), one_to(5));
}

TEST(KafkaPayload, BinaryHonoursRecordsAndOctetsPerMessage)
{
    std::map<std::uint16_t, std::uint64_t> seq;
    const Batch b = make_batch(1, 2, 1000, 0, seq);
    Payload p;
    cut_messages(b, kOrigin, KafkaFormat::Binary, 64, kNoLimit, p);
    EXPECT_EQ(p.pieces.size(), 2u * 16u); // 1000 = 15 * 64 + 40
    for (const Piece& piece : p.pieces)
        EXPECT_LE(piece.items, 64u);

    cut_messages(b, kOrigin, KafkaFormat::Binary, 0, 8192, p);
    EXPECT_GT(p.pieces.size(), 2u);
    for (const Piece& piece : p.pieces)
        EXPECT_LE(piece.length, 8192u);
    const auto seqs = recovered(p, KafkaFormat::Binary, 1);
    EXPECT_EQ(seqs.at(0), one_to(1000));
    EXPECT_EQ(seqs.at(1), one_to(1000));
}

TEST(KafkaPayload, JsonDefaultsToOneObjectPerMessage)
{
    std::map<std::uint16_t, std::uint64_t> seq;
    const Batch b = make_batch(4, 3, 10, 2, seq);
    Payload p;
    cut_messages(b, kOrigin, KafkaFormat::Json, 0, kNoLimit, p);
    ASSERT_EQ(p.pieces.size(), 32u);
    for (const Piece& piece : p.pieces) {
        const std::string line = p.bytes.substr(piece.offset, piece.length);
        EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
        EXPECT_EQ(line.back(), '\n');
        EXPECT_NE(line.find("\"source\":" + std::to_string(piece.source) + ","), std::string::npos);
    }
    const auto seqs = recovered(p, KafkaFormat::Json, 4);
    for (std::uint16_t s = 0; s < 3; ++s)
        EXPECT_EQ(seqs.at(s), one_to(10));
    EXPECT_EQ(seqs.at(kControlSource), one_to(2));
}

TEST(KafkaPayload, JsonLinesPerMessageAndOctetLimit)
{
    std::map<std::uint16_t, std::uint64_t> seq;
    const Batch b = make_batch(5, 2, 50, 0, seq);
    Payload p;
    cut_messages(b, kOrigin, KafkaFormat::Json, 8, kNoLimit, p);
    EXPECT_EQ(p.pieces.size(), 2u * 7u); // 50 = 6 * 8 + 2
    std::string line;
    encode_json(b.records[0], kOrigin, false, line);
    const std::size_t max = 3 * (line.size() + 1) + 10; // room for three lines, not four
    cut_messages(b, kOrigin, KafkaFormat::Json, 100, max, p);
    for (const Piece& piece : p.pieces) {
        EXPECT_LE(piece.length, max);
        EXPECT_LE(piece.items, 3u);
    }
    const auto seqs = recovered(p, KafkaFormat::Json, 5);
    EXPECT_EQ(seqs.at(0), one_to(50));
    EXPECT_EQ(seqs.at(1), one_to(50));
}

TEST(KafkaPayload, ReplayedFlagTravels)
{
    std::map<std::uint16_t, std::uint64_t> seq;
    Batch b = make_batch(6, 2, 3, 1, seq);
    b.replayed = true;
    for (const KafkaFormat format : {KafkaFormat::Binary, KafkaFormat::Json}) {
        Payload p;
        cut_messages(b, kOrigin, format, 0, kNoLimit, p);
        for (const Piece& piece : p.pieces) {
            auto back = piece_batch(p, piece, format);
            ASSERT_TRUE(back.ok());
            EXPECT_TRUE(back->replayed);
        }
        if (format == KafkaFormat::Json) {
            EXPECT_NE(p.bytes.find("\"replayed\":true"), std::string::npos);
        }
    }
}

TEST(KafkaPayload, EmptyBatchGivesNoMessage)
{
    Payload p;
    cut_messages(Batch{}, kOrigin, KafkaFormat::Binary, 0, kNoLimit, p);
    EXPECT_TRUE(p.pieces.empty());
    cut_messages(Batch{}, kOrigin, KafkaFormat::Json, 0, kNoLimit, p);
    EXPECT_TRUE(p.pieces.empty());
}

} // namespace
} // namespace idpath::mirror
