#include <gtest/gtest.h>

#include <vector>

#include "dataplane/wire/fragment.hpp"
#include "dataplane/wire/reassembly.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Bytes;
using Status = Reassembler::Status;

SourceKey source(std::uint8_t last_octet, std::uint16_t port = 40000)
{
    SourceKey k;
    k.address[10] = 0xff;
    k.address[11] = 0xff;
    k.address[12] = 192;
    k.address[15] = last_octet;
    k.port = port;
    return k;
}

Bytes message(std::size_t size, std::uint8_t seed = 1)
{
    Bytes m(size);
    for (std::size_t i = 0; i < size; ++i)
        m[i] = static_cast<std::uint8_t>(seed + i * 13);
    return m;
}

Envelope envelope(std::uint32_t request_id, std::uint32_t sequence, std::size_t length)
{
    Envelope e;
    e.request_id = request_id;
    e.sequence = sequence;
    e.message_length = static_cast<std::uint32_t>(length);
    e.flags = envflag::kTruncated;
    return e;
}

struct Fixture : ::testing::Test {
    Reassembler::Outcome add(Reassembler& r, const SourceKey& src, std::uint32_t id,
                             const Bytes& m, std::uint32_t k, std::uint64_t now = 1000)
    {
        return r.add(src, envelope(id, k, m.size()), fragment_payload(ByteSpan(m), k), now);
    }
};

using Reassembly = Fixture;

TEST_F(Reassembly, InOrder)
{
    Reassembler r;
    const Bytes m = message(1200); // 492 + 492 + 216
    auto o = add(r, source(1), 7, m, 0);
    EXPECT_EQ(o.status, Status::Incomplete);
    EXPECT_EQ(r.pending(), 1u);
    EXPECT_EQ(r.pending_bytes(), 1200u);
    EXPECT_EQ(add(r, source(1), 7, m, 1).status, Status::Incomplete);
    o = add(r, source(1), 7, m, 2);
    ASSERT_EQ(o.status, Status::Complete);
    EXPECT_EQ(Bytes(o.message.begin(), o.message.end()), m);
    EXPECT_EQ(o.envelope.sequence, 0u);
    EXPECT_EQ(o.envelope.request_id, 7u);
    EXPECT_EQ(o.envelope.message_length, 1200u);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.pending_bytes(), 0u);
    EXPECT_EQ(r.stats().started.get(), 1u);
    EXPECT_EQ(r.stats().completed.get(), 1u);
}

TEST_F(Reassembly, OutOfOrderReturnsTheEnvelopeOfDatagramZero)
{
    Reassembler r;
    const Bytes m = message(1500);
    for (std::uint32_t k : {3u, 1u, 0u})
        EXPECT_EQ(add(r, source(1), 7, m, k).status, Status::Incomplete) << k;
    auto o = add(r, source(1), 7, m, 2);
    ASSERT_EQ(o.status, Status::Complete);
    EXPECT_EQ(Bytes(o.message.begin(), o.message.end()), m);
    EXPECT_EQ(o.envelope.sequence, 0u);
}

TEST_F(Reassembly, DuplicatesAreCountedAndHarmless)
{
    Reassembler r;
    const Bytes m = message(1000);
    EXPECT_EQ(add(r, source(1), 7, m, 1).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(1), 7, m, 1).status, Status::Incomplete);
    EXPECT_EQ(r.stats().duplicates.get(), 1u);
    EXPECT_EQ(add(r, source(1), 7, m, 0).status, Status::Incomplete);
    auto o = add(r, source(1), 7, m, 2);
    ASSERT_EQ(o.status, Status::Complete);
    EXPECT_EQ(Bytes(o.message.begin(), o.message.end()), m);
    EXPECT_EQ(r.stats().inconsistent.get(), 0u);
}

TEST_F(Reassembly, InconsistentChunksAreRefusedAndCounted)
{
    Reassembler r;
    const Bytes m = message(1000);
    ASSERT_EQ(add(r, source(1), 7, m, 0).status, Status::Incomplete);

    // Same sequence, other octets: the first copy stays.
    const Bytes other = message(1000, 99);
    EXPECT_EQ(add(r, source(1), 7, other, 0).status, Status::Refused);
    // Another MessageLength for the same request.
    const Bytes longer = message(1100);
    EXPECT_EQ(add(r, source(1), 7, longer, 1).status, Status::Refused);
    // A chunk of the wrong size.
    EXPECT_EQ(r.add(source(1), envelope(7, 1, 1000), ByteSpan(m.data(), 100), 1000).status,
              Status::Refused);
    // A sequence number past the end.
    EXPECT_EQ(r.add(source(1), envelope(7, 3, 1000), ByteSpan(m.data(), 16), 1000).status,
              Status::Refused);
    EXPECT_EQ(r.stats().inconsistent.get(), 4u);
    EXPECT_EQ(r.pending(), 1u);

    EXPECT_EQ(add(r, source(1), 7, m, 1).status, Status::Incomplete);
    auto o = add(r, source(1), 7, m, 2);
    ASSERT_EQ(o.status, Status::Complete);
    EXPECT_EQ(Bytes(o.message.begin(), o.message.end()), m);
}

TEST_F(Reassembly, InconsistentFirstChunkStartsNothing)
{
    Reassembler r;
    const Bytes m = message(1000);
    EXPECT_EQ(r.add(source(1), envelope(7, 5, 1000), ByteSpan(m.data(), 16), 1000).status,
              Status::Refused);
    EXPECT_EQ(r.add(source(1), envelope(7, 0, 1000), ByteSpan(m.data(), 491), 1000).status,
              Status::Refused);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.stats().started.get(), 0u);
    EXPECT_EQ(r.stats().inconsistent.get(), 2u);
}

TEST_F(Reassembly, KeysIncludeSourceAndRequestId)
{
    Reassembler r;
    const Bytes a = message(1000, 1);
    const Bytes b = message(1000, 2);
    const Bytes c = message(1000, 3);
    EXPECT_EQ(add(r, source(1), 7, a, 0).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(2), 7, b, 0).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(1, 40001), 7, c, 0).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(1), 8, c, 0).status, Status::Incomplete);
    EXPECT_EQ(r.pending(), 4u);
    EXPECT_EQ(add(r, source(2), 7, b, 1).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(2), 7, b, 2).status, Status::Complete);
    EXPECT_EQ(r.pending(), 3u);
}

TEST_F(Reassembly, WholeMessageInOneDatagramCompletesAtOnce)
{
    Reassembler r;
    const Bytes small = message(100);
    auto o = r.add(source(1), envelope(7, 0, 100), ByteSpan(small), 1000);
    ASSERT_EQ(o.status, Status::Complete);
    EXPECT_EQ(Bytes(o.message.begin(), o.message.end()), small);
    const Bytes big = message(800);
    o = r.add(source(1), envelope(8, 0, 800), ByteSpan(big), 1000);
    ASSERT_EQ(o.status, Status::Complete);
    EXPECT_EQ(o.message.size(), 800u);
    EXPECT_EQ(r.pending(), 0u);
}

TEST_F(Reassembly, RefusesMessagesAboveTheLimit)
{
    ReassemblyLimits limits;
    limits.max_message_length = 1000;
    Reassembler r(limits);
    EXPECT_EQ(add(r, source(1), 7, message(1000), 0).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(1), 8, message(1001), 0).status, Status::Refused);
    EXPECT_EQ(r.stats().refused_too_large.get(), 1u);
    EXPECT_EQ(r.pending(), 1u);
}

TEST_F(Reassembly, BoundsEntriesBytesAndPerSource)
{
    ReassemblyLimits limits;
    limits.max_entries = 3;
    limits.max_entries_per_source = 2;
    limits.max_bytes = 5000;
    Reassembler r(limits);
    const Bytes m = message(1000);
    EXPECT_EQ(add(r, source(1), 1, m, 0).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(1, 1), 2, m, 0).status, Status::Incomplete);
    // Per source address, whatever the port.
    EXPECT_EQ(add(r, source(1, 2), 3, m, 0).status, Status::Refused);
    EXPECT_EQ(add(r, source(2), 4, m, 0).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(3), 5, m, 0).status, Status::Refused); // entries
    EXPECT_EQ(r.stats().refused_full.get(), 2u);
    // Chunks of pending requests still go through.
    EXPECT_EQ(add(r, source(1), 1, m, 1).status, Status::Incomplete);

    ReassemblyLimits tight;
    tight.max_bytes = 2500;
    Reassembler rb(tight);
    EXPECT_EQ(add(rb, source(1), 1, m, 0).status, Status::Incomplete);
    EXPECT_EQ(add(rb, source(2), 2, m, 0).status, Status::Incomplete);
    EXPECT_EQ(add(rb, source(3), 3, m, 0).status, Status::Refused); // 3000 > 2500
    EXPECT_EQ(rb.pending_bytes(), 2000u);
    EXPECT_EQ(add(rb, source(3), 4, message(500), 0).status, Status::Incomplete);
    EXPECT_EQ(rb.pending_bytes(), 2500u);
}

TEST_F(Reassembly, ExpireDropsOldPartials)
{
    ReassemblyLimits limits;
    limits.timeout_ms = 2000;
    Reassembler r(limits);
    const Bytes m = message(1000);
    EXPECT_EQ(add(r, source(1), 1, m, 0, 1000).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(2), 2, m, 0, 2500).status, Status::Incomplete);
    r.expire(3000); // exactly 2000 ms old: not older than the timeout
    EXPECT_EQ(r.pending(), 2u);
    r.expire(3001);
    EXPECT_EQ(r.pending(), 1u);
    EXPECT_EQ(r.pending_bytes(), 1000u);
    EXPECT_EQ(r.stats().expired.get(), 1u);
    r.expire(10000);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.pending_bytes(), 0u);
    EXPECT_EQ(r.stats().expired.get(), 2u);
}

TEST_F(Reassembly, ALateChunkStartsOver)
{
    ReassemblyLimits limits;
    limits.timeout_ms = 2000;
    Reassembler r(limits);
    const Bytes m = message(1000);
    EXPECT_EQ(add(r, source(1), 1, m, 0, 1000).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(1), 1, m, 1, 1500).status, Status::Incomplete);
    // Datagram 2 arrives too late: the old state is dropped, a new request begins.
    EXPECT_EQ(add(r, source(1), 1, m, 2, 5000).status, Status::Incomplete);
    EXPECT_EQ(r.stats().expired.get(), 1u);
    EXPECT_EQ(r.pending(), 1u);
    EXPECT_EQ(add(r, source(1), 1, m, 0, 5001).status, Status::Incomplete);
    auto o = add(r, source(1), 1, m, 1, 5002);
    ASSERT_EQ(o.status, Status::Complete);
    EXPECT_EQ(Bytes(o.message.begin(), o.message.end()), m);
}

TEST_F(Reassembly, FullTableMakesRoomByExpiring)
{
    ReassemblyLimits limits;
    limits.max_entries = 1;
    limits.timeout_ms = 100;
    Reassembler r(limits);
    const Bytes m = message(1000);
    EXPECT_EQ(add(r, source(1), 1, m, 0, 1000).status, Status::Incomplete);
    EXPECT_EQ(add(r, source(2), 2, m, 0, 1050).status, Status::Refused);
    EXPECT_EQ(add(r, source(2), 2, m, 0, 1101).status, Status::Incomplete);
    EXPECT_EQ(r.stats().expired.get(), 1u);
    EXPECT_EQ(r.pending(), 1u);
}

} // namespace
} // namespace idpath::wire
