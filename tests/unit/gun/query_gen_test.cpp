#include "perf/gun/query_gen.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"

namespace idpath::gun {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_vector(const std::string& name)
{
    std::ifstream in(std::string(IDPATH_GUN_VECTOR_DIR) + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    Bytes out;
    const std::string hex = ss.str();
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        if (std::isxdigit(static_cast<unsigned char>(hex[i])))
            out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

IdentifierSet sample_ids()
{
    IdentifierSet ids;
    for (const char* h : {"88.100.1/abc", "88.100.1/SN-0001", "88.200.7/big-manual", "88.100.1/SN-0002",
                          "0.NA/88.100.1"})
        ids.add(h);
    return ids;
}

std::vector<QuerySpec> draw(const QueryGenerator& g0, int n)
{
    QueryGenerator g = g0;
    std::vector<QuerySpec> out;
    for (int i = 0; i < n; ++i)
        out.push_back(g.next());
    return out;
}

// The reference client's ExpirationTime in the vectors is 2000000000: now + 12 h.
constexpr std::uint32_t kVectorNow = 2000000000u - wire::kDefaultExpirationSeconds;

TEST(QueryGen, EncodesTheReferenceClientsRequestOctetForOctet)
{
    IdentifierSet ids;
    ids.add("88.100.1/abc");
    const QueryShape shape;
    const QueryGenerator g(ids, shape, {}, 0);
    std::array<std::uint8_t, 512> out{};
    const std::size_t n = g.encode({0, 0, false}, 0x12345678, kVectorNow, out);
    const Bytes want = read_vector("resolution-request-88.100.1-abc.hex");
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)), want);
}

TEST(QueryGen, EncodesTheFilteredReferenceRequest)
{
    IdentifierSet ids;
    ids.add("88.100.1/abc");
    QueryShape shape;
    shape.indexes = {1, 100};
    shape.types = {"URL", "HS_ADMIN"};
    const QueryGenerator g(ids, shape, {}, 0);
    std::array<std::uint8_t, 512> out{};
    const std::size_t n = g.encode({0, 0, false}, 0x12345678, kVectorNow, out);
    EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)),
              read_vector("resolution-request-88.100.1-abc-filtered.hex"));
}

TEST(QueryGen, SameSeedAndStreamSameQueries)
{
    const IdentifierSet ids = sample_ids();
    const QueryShape shape;
    const GeneratorConfig cfg{0.3, 1.1, 77};
    EXPECT_EQ(draw(QueryGenerator(ids, shape, cfg, 3), 2000), draw(QueryGenerator(ids, shape, cfg, 3), 2000));
    EXPECT_NE(draw(QueryGenerator(ids, shape, cfg, 3), 2000), draw(QueryGenerator(ids, shape, cfg, 4), 2000));
    GeneratorConfig other = cfg;
    other.seed = 78;
    EXPECT_NE(draw(QueryGenerator(ids, shape, cfg, 3), 2000), draw(QueryGenerator(ids, shape, other, 3), 2000));
}

TEST(QueryGen, MissRatioAndMissNames)
{
    const IdentifierSet ids = sample_ids();
    const QueryShape shape;
    QueryGenerator g(ids, shape, {0.25, 0, 5}, 2);
    std::set<std::string> miss_names;
    int misses = 0;
    constexpr int kDraws = 40000;
    std::array<char, wire::kMaxHandleLength> buf;
    for (int i = 0; i < kDraws; ++i) {
        const QuerySpec q = g.next();
        if (!q.miss) {
            ASSERT_LT(q.index, ids.size());
            EXPECT_EQ(g.handle(q, buf), ids.at(q.index));
            continue;
        }
        ++misses;
        const std::string name(g.handle(q, buf));
        ASSERT_LT(q.index, ids.prefixes().size());
        EXPECT_EQ(name.rfind(ids.prefixes()[q.index] + std::string(kMissInfix), 0), 0u) << name;
        EXPECT_EQ(name.size(), ids.prefixes()[q.index].size() + kMissSuffixLength);
        miss_names.insert(name);
    }
    EXPECT_NEAR(misses / static_cast<double>(kDraws), 0.25, 0.01);
    EXPECT_EQ(miss_names.size(), static_cast<std::size_t>(misses)); // never the same name twice
}

TEST(QueryGen, StreamsNeverShareAMissName)
{
    const IdentifierSet ids = sample_ids();
    const QueryShape shape;
    const QueryGenerator a(ids, shape, {1.0, 0, 1}, 0);
    const QueryGenerator b(ids, shape, {1.0, 0, 1}, 1);
    std::set<std::string> names;
    std::array<char, wire::kMaxHandleLength> buf;
    for (const auto& g : {a, b})
        for (const QuerySpec& q : draw(g, 500))
            EXPECT_TRUE(names.insert(std::string(g.handle(q, buf))).second);
}

TEST(QueryGen, PrefixesAreDistinctAndInOrder)
{
    const IdentifierSet ids = sample_ids();
    EXPECT_EQ(ids.prefixes(), (std::vector<std::string>{"88.100.1", "88.200.7"})); // not 0.NA
}

TEST(QueryGen, EncodedRequestsDecode)
{
    const IdentifierSet ids = sample_ids();
    QueryShape shape;
    shape.types = {"URL"};
    shape.op_flags |= wire::opflag::kReturnDigest;
    QueryGenerator g(ids, shape, {0.5, 0.8, 11}, 9);
    std::array<std::uint8_t, 512> out{};
    std::array<char, wire::kMaxHandleLength> buf;
    for (std::uint32_t id = 100; id < 300; ++id) {
        const QuerySpec q = g.next();
        const std::size_t n = g.encode(q, id, 1750000000, out);
        ASSERT_GT(n, 0u);
        const auto frame = wire::decode_frame({out.data(), n});
        ASSERT_TRUE(frame.ok());
        EXPECT_EQ(frame->envelope.request_id, id);
        const auto msg = wire::decode_message(frame->payload);
        ASSERT_TRUE(msg.ok());
        EXPECT_TRUE(msg->header.has(wire::opflag::kReturnDigest));
        EXPECT_EQ(msg->header.expiration, 1750000000u + wire::kDefaultExpirationSeconds);
        const auto req = wire::decode_resolution_request(msg->body);
        ASSERT_TRUE(req.ok());
        EXPECT_EQ(as_string_view(req->handle), g.handle(q, buf));
        EXPECT_EQ(req->type_count, 1u);
    }
}

TEST(QueryGen, LongestHandleFillsOneDatagramExactly)
{
    QueryShape shape;
    shape.indexes = {1};
    shape.types = {"URL", "EMAIL"};
    IdentifierSet ids;
    ids.add("88.100.1/" + std::string(shape.max_handle_length() - 9, 'x'));
    const QueryGenerator g(ids, shape, {}, 0);
    std::array<std::uint8_t, 600> out{};
    EXPECT_EQ(g.encode({0, 0, false}, 1, 0, out), wire::kMaxUdpDatagram);
}

} // namespace
} // namespace idpath::gun
