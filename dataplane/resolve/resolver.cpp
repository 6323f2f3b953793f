#include "dataplane/resolve/resolver.hpp"

#include <algorithm>
#include <bitset>
#include <optional>
#include <string_view>

#include "dataplane/table/handle_key.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/credential.hpp"
#include "dataplane/wire/digest.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::resolve {
namespace {

using wire::ResponseCode;
namespace opflag = wire::opflag;

constexpr std::string_view kPrefixNamespace = "0.NA/";
/// Type filters are matched against every value; a cap keeps a 256 KiB TCP request from costing
/// millions of comparisons (docs/protocol.md, "Filters").
constexpr std::uint32_t kMaxFilterTypes = 256;
/// Bits the reply echoes from the request. CT and ENC ask for a signed or encrypted reply, which
/// this path does not produce, so the reply does not claim them.
constexpr std::uint32_t kEchoedFlags = ~(opflag::kCertify | opflag::kEncrypt | opflag::kAuthoritative);

std::uint32_t code(ResponseCode rc) noexcept { return static_cast<std::uint32_t>(rc); }

bool ascii_iequal(ByteSpan a, ByteSpan b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::uint8_t x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z')
            x = static_cast<std::uint8_t>(x - 32);
        if (y >= 'a' && y <= 'z')
            y = static_cast<std::uint8_t>(y - 32);
        if (x != y)
            return false;
    }
    return true;
}

/// HANDLE.NET Util.isParentTypeInArray: "URL" matches only URL; "URL." matches URL and the family
/// URL.*; both ASCII case-insensitively.
bool type_matches(ByteSpan wanted, ByteSpan type) noexcept
{
    if (!wanted.empty() && wanted.back() == '.') {
        const ByteSpan stem = wanted.first(wanted.size() - 1);
        if (ascii_iequal(stem, type))
            return true;
        return type.size() >= wanted.size() && ascii_iequal(wanted, type.first(wanted.size()));
    }
    return ascii_iequal(wanted, type);
}

bool is_prefix_referral_type(ByteSpan type) noexcept
{
    return ascii_iequal(type, as_bytes("HS_SITE.PREFIX")) || ascii_iequal(type, as_bytes("HS_SERV.PREFIX")) ||
           ascii_iequal(type, as_bytes("HS_NA_DELEGATE"));
}

/// Writes one reply. Everything funnels through here so every reply carries the same envelope,
/// header and digest rules.
class Reply {
public:
    Reply(const wire::Envelope& env, const wire::Header& req, ByteSpan header_and_body, const Policy& policy,
          const RequestContext& ctx, MutableByteSpan out) noexcept
        : env_(env), req_(req), signed_part_(header_and_body), policy_(policy), ctx_(ctx), out_(out)
    {
    }

    /// Starts a body for response code `rc`; returns the writer positioned after the RD digest.
    ByteWriter& begin(ResponseCode rc) noexcept
    {
        rc_ = code(rc);
        writer_.emplace(out_.first(std::min(out_.size(), wire::kEnvelopeSize + ctx_.max_message_length)));
        if (req_.has(opflag::kReturnDigest) && !signed_part_.empty())
            wire::write_request_digest(writer_->body(), signed_part_);
        return writer_->body();
    }

    /// Finishes the reply; returns envelope + message size or 0 when it did not fit.
    std::size_t finish() noexcept
    {
        wire::Header h;
        h.opcode = req_.opcode;
        h.response_code = rc_;
        h.op_flags = (req_.op_flags & kEchoedFlags) | (policy_.primary ? opflag::kAuthoritative : 0u);
        h.site_serial = policy_.site_serial;
        h.recursion_count = req_.recursion_count;
        h.expiration = ctx_.now + policy_.expiration_seconds;
        return writer_->finish(wire::reply_envelope(env_, 0), h);
    }

    std::uint32_t rc() const noexcept { return rc_; }

private:
    const wire::Envelope& env_;
    const wire::Header& req_;
    ByteSpan signed_part_;
    const Policy& policy_;
    const RequestContext& ctx_;
    MutableByteSpan out_;
    std::optional<wire::MessageWriter> writer_;
    std::uint32_t rc_ = 0;
};

std::size_t write_error(Reply& r, ResponseCode rc, std::string_view message) noexcept
{
    r.begin(rc).string(message);
    return r.finish();
}

struct Answer {
    std::size_t size = 0;
    std::uint32_t values = 0;
    bool malformed = false;
    wire::WireError wire_error = wire::WireError::Truncated;
    ByteSpan handle{}; // the handle asked for, as sent (RESOLUTION)
    bool punt = false; // recursive role: nothing written, the request goes upstream
};

/// Picks the values a request asks for into `chosen`. Returns the response code that decides
/// the answer: Success, ValuesNotFound (filters matched nothing), or InsufficientPermissions.
ResponseCode select_values(const wire::ResolutionRequest& req, const table::RecordView& rec, bool public_only,
                           std::bitset<wire::kMaxValues>& chosen, std::uint32_t& count) noexcept
{
    const auto values = rec.values;
    if (req.unfiltered()) {
        for (std::size_t i = 0; i < values.size(); ++i)
            chosen.set(i);
    } else {
        // Index OR type (HANDLE.NET Util.filterValues). Entries are sorted by index.
        for (std::uint32_t k = 0; k < req.index_count; ++k) {
            const std::uint32_t want = req.index_at(k);
            const auto it = std::lower_bound(
                values.begin(), values.end(), want,
                [&rec](const table::ValueEntry& e, std::uint32_t i) { return e.index(rec.encoded) < i; });
            if (it != values.end() && it->index(rec.encoded) == want)
                chosen.set(static_cast<std::size_t>(it - values.begin()));
        }
        wire::TypeListIterator types(req);
        ByteSpan t;
        while (types.next(t))
            for (std::size_t i = 0; i < values.size(); ++i)
                if (!chosen.test(i) && type_matches(t, values[i].type(rec.encoded)))
                    chosen.set(i);
    }
    count = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!chosen.test(i))
            continue;
        if (!(values[i].permissions(rec.encoded) & wire::perm::kPublicRead)) {
            // PO set: drop restricted values silently. PO clear: HANDLE.NET would demand
            // authentication; this node serves public data only (docs/protocol.md).
            if (!public_only)
                return ResponseCode::InsufficientPermissions;
            chosen.reset(i);
            continue;
        }
        ++count;
    }
    return count ? ResponseCode::Success : ResponseCode::ValuesNotFound;
}

Answer write_values(Reply& r, const wire::ResolutionRequest& req, const table::RecordView& rec,
                    bool public_only) noexcept
{
    if (req.unfiltered() && rec.all_public_read && !rec.values.empty()) {
        // The common case: every value, all public, already encoded back to back.
        ByteWriter& w = r.begin(ResponseCode::Success);
        w.string(req.handle);
        w.u32(static_cast<std::uint32_t>(rec.values.size()));
        w.bytes(rec.encoded);
        return {r.finish(), static_cast<std::uint32_t>(rec.values.size())};
    }
    std::bitset<wire::kMaxValues> chosen;
    std::uint32_t count = 0;
    const ResponseCode rc = select_values(req, rec, public_only, chosen, count);
    if (rc == ResponseCode::InsufficientPermissions)
        return {write_error(r, rc, "restricted values need an authenticated session, not offered by this node"), 0};
    if (rc == ResponseCode::ValuesNotFound)
        return {write_error(r, rc, ""), 0};

    ByteWriter& w = r.begin(ResponseCode::Success);
    w.string(req.handle); // echoed as requested, as HANDLE.NET does
    w.u32(count);
    if (count == rec.values.size()) {
        w.bytes(rec.encoded);
    } else {
        for (std::size_t i = 0; i < rec.values.size(); ++i)
            if (chosen.test(i))
                w.bytes(rec.encoded.subspan(rec.values[i].offset, rec.values[i].length));
    }
    return {r.finish(), count};
}

/// 303 for a prefix handle we do not hold: the nearest ancestor prefix handle with public
/// HS_SITE.PREFIX / HS_SERV.PREFIX values refers the client on (HANDLE.NET
/// getPrefixReferralResponseIfAppropriate).
Answer write_prefix_referral(Reply& r, const table::Table& table, std::string_view prefix_key) noexcept
{
    table::KeyBuffer buf;
    std::string_view parent = prefix_key.substr(kPrefixNamespace.size());
    for (auto dot = parent.rfind('.'); dot != std::string_view::npos; dot = parent.rfind('.')) {
        parent = parent.substr(0, dot);
        const std::size_t len = kPrefixNamespace.size() + parent.size();
        std::copy(prefix_key.begin(), prefix_key.begin() + static_cast<std::ptrdiff_t>(len), buf.begin());
        const auto rec = table.find({buf.data(), len});
        if (!rec)
            continue;
        std::uint32_t count = 0;
        for (const auto& e : rec->values)
            count += (e.permissions(rec->encoded) & wire::perm::kPublicRead) &&
                     is_prefix_referral_type(e.type(rec->encoded));
        if (!count)
            continue;
        ByteWriter& w = r.begin(ResponseCode::PrefixReferral);
        w.string(std::string_view{}); // empty referral handle: the values follow
        w.u32(count);
        for (const auto& e : rec->values)
            if ((e.permissions(rec->encoded) & wire::perm::kPublicRead) && is_prefix_referral_type(e.type(rec->encoded)))
                w.bytes(rec->encoded.subspan(e.offset, e.length));
        return {r.finish(), count};
    }
    return {};
}

/// The answer to a decoded RESOLUTION request.
Answer answer_resolution(Reply& r, const wire::MessageView& m, const wire::ResolutionRequest& req,
                         const table::Table& table, const Policy& policy, const RequestContext& ctx) noexcept
{
    // Key: ASCII-uppercased, HANDLE.NET's default for case-insensitive servers. A slash-less
    // handle "88.100.1" is the prefix handle "0.NA/88.100.1".
    table::KeyBuffer raw;
    std::array<char, wire::kMaxHandleLength + kPrefixNamespace.size()> keybuf;
    std::string_view handle = table::normalize_into(req.handle, raw);
    std::string_view key = handle;
    if (handle.find('/') == std::string_view::npos) {
        std::copy(kPrefixNamespace.begin(), kPrefixNamespace.end(), keybuf.begin());
        std::copy(handle.begin(), handle.end(), keybuf.begin() + static_cast<std::ptrdiff_t>(kPrefixNamespace.size()));
        key = {keybuf.data(), kPrefixNamespace.size() + handle.size()};
    }
    const bool public_only = m.header.has(opflag::kPublicOnly);

    if (policy.recursive) {
        const bool can_recurse = ctx.can_punt && m.header.has(opflag::kRecursive);
        // AT asks for a primary server's answer (handle-protocol.md 1.2): what the table holds
        // here is a cached copy, so it goes to the resolver threads, which bypass their caches.
        if (can_recurse && m.header.has(opflag::kAuthoritative)) {
            Answer a;
            a.punt = true;
            return a;
        }
        // Cached answers are of any prefix: no homing check on a hit.
        if (const auto rec = table.find(key))
            return write_values(r, req, *rec, public_only);
        if (can_recurse) {
            Answer a;
            a.punt = true;
            return a;
        }
        // No recursion asked for (or none over this transport): what the table alone says.
    }

    if (key.starts_with(kPrefixNamespace)) {
        if (const auto rec = table.find(key))
            return write_values(r, req, *rec, public_only);
        const std::string_view prefix = key.substr(kPrefixNamespace.size());
        if (table.homes(prefix))
            return {write_error(r, ResponseCode::HandleNotFound, ""), 0};
        if (!m.header.has(opflag::kDoNotRefer))
            if (Answer a = write_prefix_referral(r, table, key); a.size)
                return a;
        return {write_error(r, ResponseCode::ServerNotResponsible, "prefix not homed here"), 0};
    }

    const std::string_view prefix = key.substr(0, key.find('/'));
    if (!table.homes(prefix))
        return {write_error(r, ResponseCode::ServerNotResponsible, "prefix not homed here"), 0};
    const auto rec = table.find(key);
    if (!rec)
        return {write_error(r, ResponseCode::HandleNotFound, ""), 0}; // 9.2 sends an empty message
    return write_values(r, req, *rec, public_only);
}

Answer resolve_handle(Reply& r, const wire::MessageView& m, const table::Table& table, const Policy& policy,
                      const RequestContext& ctx) noexcept
{
    const auto req = wire::decode_resolution_request(m.body);
    if (!req)
        return {write_error(r, ResponseCode::ProtocolError, wire::to_string(req.error())), 0, true, req.error()};
    Answer a = req->type_count > kMaxFilterTypes
                   ? Answer{write_error(r, ResponseCode::ProtocolError, "too many types in the type filter"), 0}
                   : answer_resolution(r, m, *req, table, policy, ctx);
    a.handle = req->handle;
    return a;
}

Answer get_site_info(Reply& r, const Policy& policy) noexcept
{
    if (policy.site_info.empty())
        return {write_error(r, ResponseCode::OperationNotSupported, "no site information configured"), 0};
    r.begin(ResponseCode::Success).bytes(policy.site_info); // raw record fills the body (CNRI)
    return {r.finish(), 0};
}

} // namespace

Outcome resolve(const wire::Envelope& envelope, ByteSpan message, const table::Table& table, const Policy& policy,
                const RequestContext& ctx, MutableByteSpan out) noexcept
{
    Outcome o;
    const wire::Header unknown{};
    // Until the header is read, errors are sent as HANDLE.NET sends them: opcode 0.
    Reply early(envelope, unknown, {}, policy, ctx, out);

    // HdlUdpRequestHandler: an impossible length or an opcode 0 get RC_PROTOCOL_ERROR; encrypted
    // requests without a session get the session errors.
    if (envelope.message_length < wire::kHeaderSize + wire::kCredentialLengthSize ||
        message.size() != envelope.message_length) {
        o.malformed = true;
        o.wire_error = message.size() < envelope.message_length ? wire::WireError::Truncated
                                                                 : wire::WireError::MessageTooShort;
        o.size = write_error(early, ResponseCode::ProtocolError, "Invalid message length");
        o.response_code = early.rc();
        return o;
    }
    if (envelope.encrypted()) {
        o.size = envelope.session_id == 0
                     ? write_error(early, ResponseCode::SessionFailed, "Invalid session id. Unable to decrypt request message.")
                     : write_error(early, ResponseCode::SessionTimeout, "Session information not available or time out.");
        o.response_code = early.rc();
        return o;
    }

    const auto hdr = wire::decode_header(message);
    if (!hdr) { // cannot happen after the length check; kept so the invariant is local
        o.silence = Silence::BadMessage;
        return o;
    }
    o.opcode = hdr->opcode;
    if (!hdr->is_request()) {
        o.silence = Silence::NotARequest;
        return o;
    }
    if (hdr->opcode == 0) {
        o.size = write_error(early, ResponseCode::ProtocolError, "Unknown opCode in message: 0");
        o.response_code = early.rc();
        return o;
    }

    const auto m = wire::decode_message(message);
    Reply reply(envelope, *hdr, m ? m->header_and_body : ByteSpan{}, policy, ctx, out);
    Answer a;
    if (!m) {
        o.malformed = true;
        o.wire_error = m.error();
        a.size = write_error(reply, ResponseCode::ProtocolError, wire::to_string(m.error()));
    } else if (envelope.compressed()) {
        a.size = write_error(reply, ResponseCode::ProtocolError, "compressed messages are not supported");
    } else if (!m->credential.empty() && !wire::decode_credential(m->credential)) {
        o.malformed = true;
        o.wire_error = wire::WireError::BadField;
        a.size = write_error(reply, ResponseCode::ProtocolError, "malformed credential");
    } else if (hdr->opcode == static_cast<std::uint32_t>(wire::OpCode::Resolution)) {
        a = resolve_handle(reply, *m, table, policy, ctx);
        if (a.punt) {
            o.punt = true;
            o.handle = a.handle;
            return o;
        }
    } else if (hdr->opcode == static_cast<std::uint32_t>(wire::OpCode::GetSiteInfo)) {
        a = get_site_info(reply, policy);
    } else {
        a.size = write_error(reply, ResponseCode::OperationNotSupported, "operation not supported by this node");
    }

    if (a.size == 0) {
        // The answer did not fit: over UDP past the configured datagram cap, over TCP past
        // 256 KiB. Tell the client instead of truncating (docs/protocol.md).
        Reply again(envelope, *hdr, m ? m->header_and_body : ByteSpan{}, policy, ctx, out);
        a.size = write_error(again, ResponseCode::Error,
                             ctx.udp ? "answer too large for UDP on this node; retry over TCP"
                                     : "answer too large");
        a.values = 0;
        o.response_code = again.rc();
        o.oversize = true;
    } else {
        o.response_code = reply.rc();
    }
    o.values = a.values;
    o.size = a.size;
    o.handle = a.handle;
    if (a.malformed) {
        o.malformed = true;
        o.wire_error = a.wire_error;
    }
    return o;
}

Outcome answer_error(const wire::Envelope& envelope, ByteSpan message, const Policy& policy,
                     const RequestContext& ctx, wire::ResponseCode rc, std::string_view text,
                     MutableByteSpan out) noexcept
{
    Outcome o;
    const auto hdr = wire::decode_header(message);
    if (message.size() != envelope.message_length || !hdr || !hdr->is_request()) {
        o.silence = Silence::BadMessage;
        return o;
    }
    o.opcode = hdr->opcode;
    const auto m = wire::decode_message(message);
    Reply reply(envelope, *hdr, m ? m->header_and_body : ByteSpan{}, policy, ctx, out);
    o.size = write_error(reply, rc, text);
    o.response_code = reply.rc();
    if (m && hdr->opcode == static_cast<std::uint32_t>(wire::OpCode::Resolution))
        if (const auto req = wire::decode_resolution_request(m->body))
            o.handle = req->handle;
    return o;
}

} // namespace idpath::resolve
