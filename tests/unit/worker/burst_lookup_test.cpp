// A burst over a table larger than the worker's warm-up threshold: the find_burst() pass runs,
// and every answer is still exactly the one the handle asks for (hits, misses, long handles).
#include <gtest/gtest.h>

#include <string>

#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"
#include "dataplane/wire/response.hpp"
#include "tests/unit/worker/worker_rig.hpp"

namespace idpath::worker::test {
namespace {

std::string nth(std::size_t i)
{
    return "88.100.1/burst-" + std::to_string(i);
}

/// 40 000 handles with a 250-octet value each: about 12 MB, above the 8 MB warm-up threshold.
std::shared_ptr<const table::Table> large_table()
{
    static const auto t = [] {
        table::TableBuilder b;
        b.home("88.100.1");
        for (std::size_t i = 0; i < 40000; ++i)
            b.add(nth(i), {idpath::test::value(1, "URL", "v" + std::to_string(i) + std::string(240, 'x'))});
        b.add("88.100.1/" + std::string(300, 'L'), {idpath::test::value(1, "URL", "long")});
        return std::move(b).build();
    }();
    return t;
}

struct Answer {
    std::uint32_t rc = 0;
    std::string handle;
    std::string first_data;
};

Answer decode(const std::vector<std::uint8_t>& payload)
{
    Answer a;
    const auto m = wire::decode_message(ByteSpan(payload).subspan(wire::kEnvelopeSize));
    EXPECT_TRUE(m.ok());
    if (!m.ok())
        return a;
    a.rc = m->header.response_code;
    if (a.rc == 1) {
        const auto body = wire::decode_response_body(m->header, m->body);
        EXPECT_TRUE(body.ok());
        a.handle = body->resolution.handle;
        if (!body->resolution.values.empty())
            a.first_data = std::string(body->resolution.values[0].data.begin(),
                                       body->resolution.values[0].data.end());
    }
    return a;
}

TEST(WorkerBurstLookupTest, EveryAnswerMatchesItsHandle)
{
    Rig rig(4 * kBurstSize, MemPort::kDefaultBufferSize, {}, large_table());
    ASSERT_GE(rig.table->memory_bytes(), std::size_t{8} << 20) << "the test must take the warm-up path";
    std::vector<std::string> asked;
    for (std::size_t i = 0; i < kBurstSize; ++i) {
        std::string h;
        if (i % 7 == 3)
            h = "88.100.1/absent-" + std::to_string(i); // a miss among hits
        else if (i == 10)
            h = "88.100.1/" + std::string(300, 'l');    // too long to warm; ASCII case folds
        else
            h = nth(i * 1237 % 40000);
        asked.push_back(h);
        ASSERT_TRUE(rig.port.inject(udp4_frame(request_payload(h))));
    }
    EXPECT_EQ(rig.poll(), kBurstSize);
    const auto tx = rig.port.take_tx();
    ASSERT_EQ(tx.size(), kBurstSize);
    for (std::size_t i = 0; i < kBurstSize; ++i) {
        SCOPED_TRACE(asked[i]);
        const Answer a = decode(client_side_payload(tx[i], false));
        if (i % 7 == 3) {
            EXPECT_EQ(a.rc, 100u); // RC_HANDLE_NOT_FOUND
            continue;
        }
        ASSERT_EQ(a.rc, 1u);
        if (i == 10) {
            EXPECT_EQ(a.first_data, "long");
            continue;
        }
        EXPECT_EQ(a.handle, asked[i]);
        const std::size_t n = std::stoul(asked[i].substr(asked[i].rfind('-') + 1));
        EXPECT_EQ(a.first_data.substr(0, a.first_data.find('x')), "v" + std::to_string(n));
    }
    EXPECT_EQ(rig.port.buffers_in_use(), 0u);
}

/// `v` with one octet replaced (the explicit checks also keep g++'s -Wnull-dereference quiet).
std::vector<std::uint8_t> with_octet(std::vector<std::uint8_t> v, std::size_t at, std::uint8_t octet)
{
    if (std::uint8_t* p = v.data(); p != nullptr && at < v.size())
        p[at] = octet;
    return v;
}

TEST(PeekResolutionHandleTest, OnlyOneDatagramResolutionRequests)
{
    const auto req = request_payload("88.100.1/abc");
    EXPECT_EQ(as_string_view(wire::peek_resolution_handle(req)), "88.100.1/abc");
    // Sequence number 1: a later piece of a multi-datagram request.
    EXPECT_TRUE(wire::peek_resolution_handle(with_octet(req, 15, 1)).empty());
    // OC_GET_SITE_INFO.
    EXPECT_TRUE(wire::peek_resolution_handle(with_octet(req, wire::kEnvelopeSize + 3, 2)).empty());
    for (std::size_t cut = 0; cut < req.size(); ++cut) {
        const ByteSpan p = wire::peek_resolution_handle(ByteSpan(req).first(cut));
        EXPECT_TRUE(p.empty() || p.data() + p.size() <= req.data() + cut) << cut;
    }
    // A handle length far past the end.
    EXPECT_TRUE(wire::peek_resolution_handle(
                    with_octet(req, wire::kEnvelopeSize + wire::kHeaderSize, 0x7f))
                    .empty());
}

} // namespace
} // namespace idpath::worker::test
