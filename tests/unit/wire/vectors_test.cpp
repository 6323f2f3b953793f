// Byte-exact requests from a HANDLE.NET 9.2.0 client (tests/data/vectors/, from
// shared/vectors/README.md): decode every field, then re-encode and compare octet for octet.

#include <gtest/gtest.h>

#include <array>
#include <string_view>
#include <vector>

#include "dataplane/wire/digest.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"
#include "tests/unit/wire/test_util.hpp"

namespace idpath::wire {
namespace {

using test::Bytes;
using test::span;

struct Decoded {
    Frame frame;
    MessageView message;
    ResolutionRequest request;
};

Decoded decode_vector(const Bytes& b)
{
    Decoded d{};
    auto f = decode_frame(span(b));
    EXPECT_TRUE(f.ok());
    if (!f.ok())
        return d;
    d.frame = *f;
    auto m = decode_message(f->payload);
    EXPECT_TRUE(m.ok());
    if (!m.ok())
        return d;
    d.message = *m;
    auto req = decode_resolution_request(m->body);
    EXPECT_TRUE(req.ok());
    if (req.ok())
        d.request = *req;
    return d;
}

void expect_client_envelope_and_header(const Decoded& d, std::uint32_t message_length,
                                       std::uint32_t body_length)
{
    const Envelope& e = d.frame.envelope;
    EXPECT_EQ(e.major, 2);
    EXPECT_EQ(e.minor, 11);
    EXPECT_EQ(e.flags, 0);
    EXPECT_EQ(e.suggested_major, 2);
    EXPECT_EQ(e.suggested_minor, 11);
    EXPECT_EQ(e.session_id, 0u);
    EXPECT_EQ(e.request_id, 0x12345678u);
    EXPECT_EQ(e.sequence, 0u);
    EXPECT_EQ(e.message_length, message_length);
    EXPECT_FALSE(e.multi_datagram());

    const Header& h = d.message.header;
    EXPECT_EQ(h.opcode, static_cast<std::uint32_t>(OpCode::Resolution));
    EXPECT_EQ(h.response_code, 0u);
    EXPECT_TRUE(h.is_request());
    EXPECT_EQ(h.op_flags, opflag::kRecursive | opflag::kCacheCertify | opflag::kPublicOnly);
    EXPECT_EQ(h.op_flags, 0x19000000u);
    EXPECT_EQ(h.site_serial, 0);
    EXPECT_EQ(h.recursion_count, 0);
    EXPECT_EQ(h.expiration, 2000000000u);
    EXPECT_EQ(h.body_length, body_length);
    EXPECT_TRUE(d.message.has_credential_length);
    EXPECT_TRUE(d.message.credential.empty());
    EXPECT_EQ(d.message.header_and_body.size(), kHeaderSize + body_length);
}

Bytes reencode(const Decoded& d, std::span<const std::uint32_t> indexes,
               std::span<const std::string_view> types)
{
    Bytes out(kMaxUdpDatagram);
    MessageWriter w(out);
    encode_resolution_request(w.body(), as_string_view(d.request.handle), indexes, types);
    const std::size_t n = w.finish(d.frame.envelope, d.message.header);
    out.resize(n);
    return out;
}

TEST(Vectors, UnfilteredResolutionRequest)
{
    const Bytes b = test::read_vector("resolution-request-88.100.1-abc.hex");
    ASSERT_EQ(b.size(), 72u);
    const Decoded d = decode_vector(b);
    expect_client_envelope_and_header(d, 52, 24);
    EXPECT_EQ(as_string_view(d.request.handle), "88.100.1/abc");
    EXPECT_EQ(d.request.index_count, 0u);
    EXPECT_EQ(d.request.type_count, 0u);
    EXPECT_TRUE(d.request.unfiltered());

    EXPECT_EQ(reencode(d, {}, {}), b);
}

TEST(Vectors, FilteredResolutionRequest)
{
    const Bytes b = test::read_vector("resolution-request-88.100.1-abc-filtered.hex");
    ASSERT_EQ(b.size(), 99u);
    const Decoded d = decode_vector(b);
    expect_client_envelope_and_header(d, 79, 51);
    EXPECT_EQ(as_string_view(d.request.handle), "88.100.1/abc");
    ASSERT_EQ(d.request.index_count, 2u);
    EXPECT_EQ(d.request.index_at(0), 1u);
    EXPECT_EQ(d.request.index_at(1), 100u);
    ASSERT_EQ(d.request.type_count, 2u);
    std::vector<std::string_view> types;
    TypeListIterator it(d.request);
    for (ByteSpan t; it.next(t);)
        types.push_back(as_string_view(t));
    EXPECT_EQ(types, (std::vector<std::string_view>{"URL", "HS_ADMIN"}));

    const std::array<std::uint32_t, 2> indexes{1, 100};
    EXPECT_EQ(reencode(d, indexes, types), b);
}

TEST(Vectors, RequestDigestCoversHeaderAndBody)
{
    struct Case {
        const char* file;
        const char* sha256;
    };
    const Case cases[] = {
        {"resolution-request-88.100.1-abc.hex",
         "c3ccad6487040458dccaed54a06ce8ba18a43743a22dc6b83b74fa60c975fcaf"},
        {"resolution-request-88.100.1-abc-filtered.hex",
         "95dcb805091429ea484af696c2ce3fe38b3b430c5d0340de544b7fdb66a46887"},
    };
    for (const Case& c : cases) {
        const Bytes b = test::read_vector(c.file);
        const Decoded d = decode_vector(b);
        std::array<std::uint8_t, kRequestDigestSize> out{};
        ByteWriter w(out);
        write_request_digest(w, d.message.header_and_body);
        ASSERT_TRUE(w.ok());
        EXPECT_EQ(test::to_hex(out), std::string("03") + c.sha256) << c.file;
    }
}

TEST(Vectors, EveryTruncationOfTheDatagramFails)
{
    for (const char* file : {"resolution-request-88.100.1-abc.hex",
                             "resolution-request-88.100.1-abc-filtered.hex"}) {
        const Bytes b = test::read_vector(file);
        ASSERT_FALSE(b.empty());
        for (std::size_t n = 0; n < b.size(); ++n) {
            const Bytes p(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
            auto f = decode_frame(span(p));
            ASSERT_FALSE(f.ok()) << file << " " << n;
            EXPECT_EQ(test::error_of(f), WireError::Truncated) << file << " " << n;
        }
    }
}

} // namespace
} // namespace idpath::wire
