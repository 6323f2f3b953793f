// decode_response_body under headers chosen by the first input octets.
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/wire/response.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

namespace {

// Input octet 0 picks the opcode, octet 1 the response code, bit 0 of octet 2 sets RD.
constexpr OpCode kOpcodes[] = {
    OpCode::Resolution,  OpCode::GetSiteInfo,    OpCode::CreateHandle,  OpCode::ListHandles,
    OpCode::SessionSetup, OpCode::RetrieveTxnLog, OpCode::LoginIdSystem,
};

constexpr ResponseCode kCodes[] = {
    ResponseCode::Success,
    ResponseCode::Error,
    ResponseCode::HandleNotFound,
    ResponseCode::ValuesNotFound,
    ResponseCode::ServiceReferral,
    ResponseCode::PrefixReferral,
    ResponseCode::AuthenticationNeeded,
    ResponseCode::ServerNotResponsible,
    ResponseCode::RequestLimitDaily,
    ResponseCode::Reserved,
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fuzz::Input in(data, size);
    Header h;
    h.opcode = static_cast<std::uint32_t>(kOpcodes[in.u8() % std::size(kOpcodes)]);
    h.response_code = static_cast<std::uint32_t>(kCodes[in.u8() % std::size(kCodes)]);
    if (in.u8() & 1)
        h.op_flags |= opflag::kReturnDigest;
    const ByteSpan body = in.rest();
    h.body_length = static_cast<std::uint32_t>(body.size());

    auto r = decode_response_body(h, body);
    if (!r)
        return 0;
    fuzz::check(!h.is_request());
    fuzz::check(r->digest.has_value() == h.has(opflag::kReturnDigest));
    using Kind = DecodedResponse::Kind;
    switch (r->kind) {
    case Kind::Resolution:
        fuzz::check(r->resolution.handle.size() <= kMaxHandleLength);
        fuzz::check(r->resolution.values.size() <= kMaxValues);
        break;
    case Kind::SiteInfo:
        fuzz::check(encode_site_info(r->site_info).size() <= body.size());
        break;
    case Kind::Referral:
        fuzz::check(r->referral.values.size() <= kMaxValues);
        break;
    case Kind::Raw:
        fuzz::check(r->raw.size() <= body.size());
        break;
    case Kind::Challenge:
    case Kind::Error:
        break;
    }
    return 0;
}
