#include "controlplane/app/recursive_reply.hpp"

#include <algorithm>

#include "dataplane/base/byte_reader.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"

namespace idpath::app {

namespace {

constexpr std::string_view kPrefixNamespace = "0.NA/";
// Upstream failure texts name servers and timeouts; a client needs the gist only.
constexpr std::size_t kMaxErrorText = 200;

std::shared_ptr<table::Table> one_record_table(const std::string& key, std::vector<wire::HandleValue>* values)
{
    table::TableBuilder b;
    if (values != nullptr && !b.add(key, std::move(*values)))
        return nullptr;
    b.home(homing_prefix(key));
    return std::move(b).build();
}

} // namespace

std::string table_key(std::string_view handle)
{
    std::string key = table::normalize(handle);
    if (key.find('/') == std::string::npos)
        key.insert(0, kPrefixNamespace);
    return key;
}

std::string homing_prefix(std::string_view key)
{
    if (key.starts_with(kPrefixNamespace))
        return std::string(key.substr(kPrefixNamespace.size()));
    return std::string(key.substr(0, key.find('/')));
}

std::optional<std::string> requested_handle(ByteSpan request)
{
    const auto env = wire::decode_envelope(request);
    if (!env)
        return std::nullopt;
    const auto m = wire::decode_message(request.subspan(wire::kEnvelopeSize));
    if (!m || m->header.opcode != static_cast<std::uint32_t>(wire::OpCode::Resolution))
        return std::nullopt;
    const auto req = wire::decode_resolution_request(m->body);
    if (!req)
        return std::nullopt;
    return std::string(as_string_view(req->handle));
}

bool asks_authoritative(ByteSpan request)
{
    if (request.size() < wire::kEnvelopeSize)
        return false;
    const auto m = wire::decode_message(request.subspan(wire::kEnvelopeSize));
    return m && m->header.has(wire::opflag::kAuthoritative);
}

resolve::Outcome recursive_reply(ByteSpan request, const recursion::Outcome& answer, resolve::Policy policy,
                                 std::uint32_t now_unix, MutableByteSpan out)
{
    policy.recursive = false;
    policy.primary = false; // cached or relayed answers are never authoritative
    const resolve::RequestContext ctx{policy.max_udp_datagrams * wire::kMaxUdpChunk, now_unix, true, false};
    resolve::Outcome silent;
    silent.silence = resolve::Silence::BadEnvelope;
    const auto env = wire::decode_envelope(request);
    const auto handle = requested_handle(request);
    if (!env || !handle)
        return silent;
    const ByteSpan message = request.subspan(wire::kEnvelopeSize);
    const auto error = [&](wire::ResponseCode rc, std::string_view text) {
        return resolve::answer_error(*env, message, policy, ctx, rc, text, out);
    };

    const std::string key = table_key(*handle);
    const std::uint32_t rc = answer.response_code;
    if (answer.failed()) {
        std::string text = "recursion failed: " + answer.error;
        if (text.size() > kMaxErrorText)
            text.resize(kMaxErrorText);
        return error(wire::ResponseCode::Error, text);
    }
    std::shared_ptr<table::Table> table;
    if (rc == static_cast<std::uint32_t>(wire::ResponseCode::Success) && answer.value_count > 0) {
        auto values = wire::decode_values(answer.values, answer.value_count);
        if (values)
            table = one_record_table(key, &*values);
        if (!table)
            return error(wire::ResponseCode::Error, "recursion failed: an upstream answer this node cannot hold");
    } else if (rc == static_cast<std::uint32_t>(wire::ResponseCode::HandleNotFound)) {
        table = one_record_table(key, nullptr);
    } else {
        return error(static_cast<wire::ResponseCode>(rc), "");
    }
    return resolve::resolve(*env, message, *table, policy, ctx, out);
}

} // namespace idpath::app
