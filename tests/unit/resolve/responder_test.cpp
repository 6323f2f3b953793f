#include "dataplane/resolve/responder.hpp"

#include <gtest/gtest.h>

#include "dataplane/wire/fragment.hpp"
#include "resolve_fixture.hpp"

namespace idpath::resolve {
namespace {

using test::make_request;

class ResponderTest : public ::testing::Test {
protected:
    std::shared_ptr<const table::Table> table_ = test::small_table();
    Policy policy_;
    ResolveStats stats_;
    Responder responder_{policy_, stats_};
    wire::SourceKey src_{{}, 4000};
};

TEST_F(ResponderTest, SingleDatagramAnswer)
{
    const auto req = make_request("88.100.1/abc");
    const auto reply = responder_.on_udp(*table_, src_, req.bytes, 1800000000, 0);
    ASSERT_FALSE(reply.empty());
    EXPECT_EQ(reply.datagrams, 1u);
    std::array<std::uint8_t, wire::kEnvelopeSize> env;
    const ByteSpan payload = responder_.udp_datagram(0, env);
    EXPECT_EQ(payload.size() + wire::kEnvelopeSize, reply.bytes.size());
    EXPECT_EQ(stats_.requests.get(), 1u);
    EXPECT_EQ(stats_.rc_count(1), 1u);
    EXPECT_EQ(stats_.datagrams_out.get(), 1u);
}

TEST_F(ResponderTest, RecursiveMissIsPuntedOnlyWhenAllowed)
{
    policy_.recursive = true;
    const auto req = make_request("88.200.1/abc");
    // No miss ring: answered from the table (301).
    auto reply = responder_.on_udp(*table_, src_, req.bytes, 1800000000, 0);
    EXPECT_FALSE(reply.punt);
    EXPECT_FALSE(reply.empty());
    responder_.set_can_punt(true);
    reply = responder_.on_udp(*table_, src_, req.bytes, 1800000000, 0);
    EXPECT_TRUE(reply.punt);
    EXPECT_TRUE(reply.empty());
    ASSERT_NE(reply.outcome, nullptr);
    EXPECT_TRUE(reply.outcome->punt);
    EXPECT_EQ(stats_.punted.get(), 1u);
    EXPECT_EQ(stats_.answers.get(), 1u); // the 301 only: a punt is answered elsewhere
    EXPECT_EQ(stats_.requests.get(), 2u);
    // TCP punts too, but not a request reassembled from chunks...
    const wire::Envelope env = req.envelope;
    reply = responder_.on_tcp(*table_, env, req.message(), 1800000000);
    EXPECT_TRUE(reply.punt);
    EXPECT_EQ(stats_.punted.get(), 2u);
    reply = responder_.on_tcp(*table_, env, req.message(), 1800000000, true);
    EXPECT_FALSE(reply.punt);
    EXPECT_EQ(reply.outcome->response_code, 301u);
    // ...and with no room for it, the miss is dropped, counted, and answered from the table,
    // one request in the counters.
    reply = responder_.on_tcp(*table_, env, req.message(), 1800000000, false, false);
    EXPECT_FALSE(reply.punt);
    ASSERT_NE(reply.outcome, nullptr);
    EXPECT_EQ(reply.outcome->response_code, 301u);
    EXPECT_FALSE(reply.empty());
    EXPECT_EQ(stats_.punted.get(), 3u);
    EXPECT_EQ(stats_.punt_dropped.get(), 1u);
    EXPECT_EQ(stats_.requests.get(), 5u);
    EXPECT_EQ(stats_.answers.get(), 3u);
}

TEST_F(ResponderTest, MultiDatagramAnswerSplitsAt492)
{
    const auto req = make_request("88.100.1/big");
    const auto reply = responder_.on_udp(*table_, src_, req.bytes, 1800000000, 0);
    ASSERT_FALSE(reply.empty());
    const std::size_t message = reply.bytes.size() - wire::kEnvelopeSize;
    EXPECT_EQ(reply.datagrams, (message + 491) / 492);
    std::vector<std::uint8_t> joined;
    for (std::uint32_t k = 0; k < reply.datagrams; ++k) {
        std::array<std::uint8_t, wire::kEnvelopeSize> env;
        const ByteSpan p = responder_.udp_datagram(k, env);
        EXPECT_LE(p.size() + wire::kEnvelopeSize, wire::kMaxUdpDatagram);
        const auto e = wire::decode_envelope(env);
        ASSERT_TRUE(e.ok());
        EXPECT_EQ(e->sequence, k);
        EXPECT_EQ(e->message_length, message);
        EXPECT_EQ(e->request_id, 0x12345678u);
        EXPECT_TRUE(e->truncated());
        joined.insert(joined.end(), p.begin(), p.end());
    }
    EXPECT_TRUE(std::equal(joined.begin(), joined.end(), reply.bytes.begin() + wire::kEnvelopeSize));
    EXPECT_EQ(stats_.datagrams_out.get(), reply.datagrams);
}

TEST_F(ResponderTest, ReassemblesMultiDatagramRequests)
{
    std::vector<std::string_view> types(40, "PADDING-TYPE-NAME");
    types.push_back("EMAIL");
    const auto req = make_request("88.100.1/abc", 0x19000000, {}, types);
    const ByteSpan message = req.message();
    ASSERT_GT(message.size(), wire::kMaxUdpChunk);
    const std::uint32_t n = wire::datagram_count(message.size());
    Responder::Reply reply;
    for (std::uint32_t k = n; k-- > 0;) { // last chunk first
        std::vector<std::uint8_t> d(wire::kEnvelopeSize);
        wire::fragment_envelope(std::span<const std::uint8_t, wire::kEnvelopeSize>(req.bytes.data(), wire::kEnvelopeSize), k, n,
                                std::span<std::uint8_t, wire::kEnvelopeSize>(d.data(), wire::kEnvelopeSize));
        const ByteSpan chunk = wire::fragment_payload(message, k);
        d.insert(d.end(), chunk.begin(), chunk.end());
        reply = responder_.on_udp(*table_, src_, d, 1800000000, 10);
        if (k > 0) {
            EXPECT_TRUE(reply.empty());
        }
    }
    ASSERT_FALSE(reply.empty());
    const auto m = wire::decode_message(reply.bytes.subspan(wire::kEnvelopeSize));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->header.response_code, 1u);
    const auto body = wire::decode_response_body(m->header, m->body);
    ASSERT_TRUE(body.ok());
    ASSERT_EQ(body->resolution.values.size(), 1u);
    EXPECT_EQ(body->resolution.values[0].type, "EMAIL");
}

TEST_F(ResponderTest, GarbageIsSilentAndCounted)
{
    const std::vector<std::uint8_t> junk(7, 0);
    EXPECT_TRUE(responder_.on_udp(*table_, src_, junk, 1, 0).empty());
    std::vector<std::uint8_t> bad_version(64, 0);
    bad_version[0] = 9;
    EXPECT_TRUE(responder_.on_udp(*table_, src_, bad_version, 1, 0).empty());
    EXPECT_EQ(stats_.silenced[static_cast<std::size_t>(Silence::BadEnvelope)].get(), 2u);
    EXPECT_EQ(stats_.answers.get(), 0u);
    EXPECT_EQ(stats_.malformed.get(), 2u);
}

TEST_F(ResponderTest, TcpAnswersAreNeverSplit)
{
    const auto req = make_request("88.100.1/big");
    const auto reply = responder_.on_tcp(*table_, req.envelope, req.message(), 1800000000);
    ASSERT_FALSE(reply.empty());
    EXPECT_EQ(reply.datagrams, 1u);
    EXPECT_GT(reply.bytes.size(), 2400u);
    const auto e = wire::decode_envelope(reply.bytes);
    EXPECT_EQ(e->message_length, reply.bytes.size() - wire::kEnvelopeSize);
}

} // namespace
} // namespace idpath::resolve
