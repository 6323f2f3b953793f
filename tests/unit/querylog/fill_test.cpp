#include "dataplane/querylog/fill.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dataplane/resolve/responder.hpp"
#include "dataplane/wire/fragment.hpp"
#include "tests/unit/resolve/resolve_fixture.hpp"

namespace idpath::querylog {
namespace {

constexpr std::uint32_t kNow = 1800000000;

Peer v4_peer()
{
    Peer p;
    p.client = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
    p.server = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    p.client_port = 40000;
    p.server_port = 2641;
    p.family = 4;
    p.transport = Transport::Udp;
    return p;
}

std::string handle_of(const Record& r)
{
    return {reinterpret_cast<const char*>(r.handle), r.handle_stored};
}

class FillTest : public ::testing::Test {
protected:
    /// `bytes` through the Responder, then into a record as a transport would.
    Record through_responder(ByteSpan bytes, const Peer& peer = v4_peer())
    {
        const auto reply = responder_.on_udp(*table_, {peer.client, peer.client_port}, bytes, kNow, 0);
        EXPECT_NE(reply.outcome, nullptr);
        Record r{};
        if (reply.outcome != nullptr)
            fill_query(r, peer, *reply.outcome, reply.empty() ? 0 : reply.datagrams);
        return r;
    }

    std::shared_ptr<const table::Table> table_ = idpath::test::small_table();
    resolve::Policy policy_;
    resolve::ResolveStats stats_;
    resolve::Responder responder_{policy_, stats_};
};

TEST(FamilyOf, MappedIsFourAnythingElseSix)
{
    EXPECT_EQ(family_of(v4_peer().client), 4u);
    std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
    EXPECT_EQ(family_of(v6), 6u);
    v6 = {};
    v6[10] = 0xff; // ::ff00:0:0/... is not mapped
    EXPECT_EQ(family_of(v6), 6u);
}

TEST_F(FillTest, Ipv4AnsweredQuery)
{
    const auto req = idpath::test::make_request("88.100.1/ABC");
    const Record r = through_responder(req.bytes);
    EXPECT_EQ(r.family, 4u);
    EXPECT_EQ(r.transport, Transport::Udp);
    EXPECT_EQ(r.action, Action::Allowed);
    EXPECT_EQ(r.silence, 0u);
    EXPECT_EQ(r.flags, 0u);
    EXPECT_EQ(r.opcode, 1u);
    EXPECT_EQ(r.response_code, 1u);
    EXPECT_EQ(r.values, 4u);
    EXPECT_EQ(r.datagrams, 1u);
    EXPECT_EQ(r.request_bytes, req.bytes.size());
    EXPECT_GT(r.response_bytes, wire::kEnvelopeSize);
    EXPECT_EQ(r.client_port, 40000u);
    EXPECT_EQ(r.server_port, 2641u);
    EXPECT_TRUE(std::equal(r.client, r.client + 16, v4_peer().client.begin()));
    EXPECT_TRUE(std::equal(r.server, r.server + 16, v4_peer().server.begin()));
    EXPECT_EQ(handle_of(r), "88.100.1/ABC"); // as sent, not normalized
    EXPECT_EQ(r.handle_length, 12u);
}

TEST_F(FillTest, Ipv6MissAndMultiDatagramAnswer)
{
    Peer p;
    p.client = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    p.server = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    p.client_port = 5353;
    p.server_port = 2641;
    p.family = 6;
    Record r = through_responder(idpath::test::make_request("88.100.1/nope").bytes, p);
    EXPECT_EQ(r.family, 6u);
    EXPECT_EQ(r.response_code, 100u); // RC_HANDLE_NOT_FOUND
    EXPECT_EQ(r.values, 0u);
    EXPECT_EQ(r.client_port, 5353u);
    EXPECT_TRUE(std::equal(r.client, r.client + 16, p.client.begin()));
    EXPECT_EQ(handle_of(r), "88.100.1/nope");

    // Every datagram after the first repeats the envelope.
    // The request outlives the outcome, whose handle points into it.
    const auto big = idpath::test::make_request("88.100.1/big").bytes;
    const auto reply = responder_.on_udp(*table_, {}, big, kNow, 0);
    ASSERT_GT(reply.datagrams, 1u);
    r = {};
    fill_query(r, p, *reply.outcome, reply.datagrams);
    EXPECT_EQ(r.datagrams, reply.datagrams);
    EXPECT_EQ(r.values, 2u);
    EXPECT_EQ(r.response_bytes, reply.bytes.size() + (reply.datagrams - 1) * wire::kEnvelopeSize);
    // The same answer the transport could not carry: nothing sent, nothing recorded as sent.
    r = {};
    fill_query(r, p, *reply.outcome, 0);
    EXPECT_EQ(r.datagrams, 0u);
    EXPECT_EQ(r.response_bytes, 0u);
    EXPECT_EQ(r.response_code, 1u);
}

TEST_F(FillTest, ARecursiveMissIsRecordedAsRecursed)
{
    resolve::Outcome o;
    o.punt = true;
    o.opcode = 1;
    Record r{};
    fill_query(r, {}, o, 0);
    EXPECT_EQ(r.action, Action::Recursed);
    EXPECT_EQ(r.response_code, 0u);
    EXPECT_EQ(r.response_bytes, 0u);
    o.punt = false;
    fill_query(r, {}, o, 0);
    EXPECT_EQ(r.action, Action::Allowed);
}

TEST_F(FillTest, LongHandleIsTruncatedAndFlagged)
{
    const std::string handle = "88.100.1/" + std::string(300, 'h');
    const Record r = through_responder(idpath::test::make_request(handle).bytes);
    EXPECT_EQ(r.handle_length, handle.size());
    EXPECT_EQ(r.handle_stored, kHandleBytes);
    EXPECT_EQ(handle_of(r), handle.substr(0, kHandleBytes));
    EXPECT_EQ(r.flags & kFlagHandleTruncated, kFlagHandleTruncated);
}

TEST_F(FillTest, SilencedRequestsAreRecordedWithTheirReason)
{
    std::vector<std::uint8_t> junk(7, 0xee);
    Record r = through_responder(junk);
    EXPECT_EQ(r.silence, static_cast<std::uint8_t>(resolve::Silence::BadEnvelope));
    EXPECT_EQ(r.response_code, 0u);
    EXPECT_EQ(r.response_bytes, 0u);
    EXPECT_EQ(r.datagrams, 0u);
    EXPECT_EQ(r.request_bytes, 7u);
    EXPECT_EQ(r.handle_stored, 0u);
    EXPECT_EQ(r.flags & kFlagMalformed, kFlagMalformed);

    // A response sent to us (ResponseCode != 0): silent, its opcode and handle still known
    // only as far as the header; no handle is read from something that is not a request.
    auto resp = idpath::test::make_request("88.100.1/abc");
    resp.bytes[wire::kEnvelopeSize + 7] = 1; // ResponseCode, the header's second word
    r = through_responder(resp.bytes);
    EXPECT_EQ(r.silence, static_cast<std::uint8_t>(resolve::Silence::NotARequest));
    EXPECT_EQ(r.opcode, 1u);
    EXPECT_EQ(r.response_code, 0u);
    EXPECT_EQ(r.handle_stored, 0u);
}

TEST_F(FillTest, OtherOpcodesAndBrokenBodiesHaveNoHandle)
{
    Record r = through_responder(idpath::test::make_request("88.100.1/abc", 0x19000000, {}, {}, 2).bytes);
    EXPECT_EQ(r.opcode, 2u);
    EXPECT_EQ(r.handle_stored, 0u);
    EXPECT_EQ(r.handle_length, 0u);
}

TEST_F(FillTest, MultiDatagramRequestIsOneRecordFlaggedWhenComplete)
{
    std::vector<std::string_view> types(40, "PADDING-TYPE-NAME");
    types.push_back("EMAIL");
    const auto req = idpath::test::make_request("88.100.1/abc", 0x19000000, {}, types);
    const ByteSpan message = req.message();
    const std::uint32_t n = wire::datagram_count(message.size());
    ASSERT_GT(n, 1u);
    const wire::SourceKey src{v4_peer().client, 40000};
    for (std::uint32_t k = 0; k < n; ++k) {
        std::vector<std::uint8_t> d(wire::kEnvelopeSize);
        wire::fragment_envelope(std::span<const std::uint8_t, wire::kEnvelopeSize>(req.bytes.data(), wire::kEnvelopeSize), k, n,
                                std::span<std::uint8_t, wire::kEnvelopeSize>(d.data(), wire::kEnvelopeSize));
        const ByteSpan chunk = wire::fragment_payload(message, k);
        d.insert(d.end(), chunk.begin(), chunk.end());
        const auto reply = responder_.on_udp(*table_, src, d, kNow, 0);
        if (k + 1 < n) {
            EXPECT_EQ(reply.outcome, nullptr) << k; // a partial request: nothing to log yet
            continue;
        }
        ASSERT_NE(reply.outcome, nullptr);
        Record r{};
        fill_query(r, v4_peer(), *reply.outcome, reply.datagrams);
        EXPECT_EQ(r.flags & kFlagMultiDatagramRequest, kFlagMultiDatagramRequest);
        EXPECT_EQ(r.request_bytes, wire::kEnvelopeSize + message.size());
        EXPECT_EQ(handle_of(r), "88.100.1/abc");
        EXPECT_EQ(r.response_code, 1u);
        EXPECT_EQ(r.values, 1u);
    }
}

TEST_F(FillTest, TcpRecordsOneDatagram)
{
    const auto req = idpath::test::make_request("88.100.1/big");
    const auto reply = responder_.on_tcp(*table_, req.envelope, req.message(), kNow);
    ASSERT_NE(reply.outcome, nullptr);
    Peer p = v4_peer();
    p.transport = Transport::Tcp;
    Record r{};
    fill_query(r, p, *reply.outcome, 1);
    EXPECT_EQ(r.transport, Transport::Tcp);
    EXPECT_EQ(r.datagrams, 1u);
    EXPECT_EQ(r.response_bytes, reply.bytes.size());
    EXPECT_EQ(r.request_bytes, req.bytes.size());
    EXPECT_EQ(r.flags & kFlagMultiDatagramRequest, 0);
}

} // namespace
} // namespace idpath::querylog
