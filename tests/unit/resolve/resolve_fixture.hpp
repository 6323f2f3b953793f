#pragma once
// A small table and request builders shared by the resolver and responder tests.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/resolver.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"
#include "dataplane/wire/response.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::test {

inline wire::HandleValue value(std::uint32_t index, std::string type, std::string data,
                               std::uint8_t perms = wire::perm::kDefault)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1700000000;
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    v.permissions = perms;
    return v;
}

inline std::shared_ptr<const table::Table> small_table()
{
    table::TableBuilder b;
    b.home("88.100.1");
    b.add("88.100.1/abc", {value(1, "URL", "https://example.org/a"), value(2, "EMAIL", "a@example.org"),
                           value(3, "URL.MIRROR", "https://mirror.example.org/a"),
                           value(100, "HS_ADMIN", std::string("\x0f\xff\x00\x00\x00\x0d" "0.NA/88.100.1\x00\x00\x00\xc8", 23))});
    b.add("88.100.1/private", {value(1, "URL", "https://example.org/p"),
                               value(2, "SECRET", "s3cr3t", wire::perm::kAdminRead | wire::perm::kAdminWrite)});
    b.add("88.100.1/big", {value(1, "BLOB", std::string(1200, 'x')), value(2, "BLOB", std::string(1200, 'y'))});
    b.add("0.NA/88.100.1", {value(1, "HS_SITE", "site-bytes")});
    b.add("0.NA/88", {value(1, "HS_SITE.PREFIX", "prefix-site"), value(2, "DESC", "not a referral")});
    return std::move(b).build();
}

struct Request {
    std::vector<std::uint8_t> bytes; // envelope + message
    wire::Envelope envelope;
    ByteSpan message() const { return ByteSpan(bytes).subspan(wire::kEnvelopeSize); }
};

inline Request make_request(std::string_view handle, std::uint32_t flags = 0x19000000,
                            std::vector<std::uint32_t> indexes = {}, std::vector<std::string_view> types = {},
                            std::uint32_t opcode = 1)
{
    Request r;
    r.bytes.resize(8192);
    wire::MessageWriter mw(r.bytes);
    if (opcode == 1)
        wire::encode_resolution_request(mw.body(), handle, indexes, types);
    else
        mw.body().string(handle);
    wire::Header h;
    h.opcode = opcode;
    h.op_flags = flags;
    h.expiration = 2000000000;
    r.envelope.request_id = 0x12345678;
    const std::size_t n = mw.finish(r.envelope, h);
    r.bytes.resize(n);
    r.envelope = *wire::decode_envelope(r.bytes);
    return r;
}

struct Reply {
    wire::Envelope envelope;
    wire::Header header;
    wire::DecodedResponse body;
    resolve::Outcome outcome;
};

} // namespace idpath::test
