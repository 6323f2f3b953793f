#include "controlplane/tools/dig_format.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/response.hpp"
#include "dataplane/wire/site_info.hpp"

namespace idpath::tools {

namespace {

using json = nlohmann::ordered_json;

template <class T>
wire::WireError error_of(const Result<T, wire::WireError>& r) noexcept
{
    return r.error();
}

enum class DigestCheck { NotRequested, Ok, Mismatch, Missing, Unsupported };

const char* digest_check_name(DigestCheck c)
{
    switch (c) {
    case DigestCheck::Ok:
        return "ok";
    case DigestCheck::Mismatch:
        return "mismatch";
    case DigestCheck::Missing:
        return "missing";
    case DigestCheck::Unsupported:
        return "unsupported";
    case DigestCheck::NotRequested:
        break;
    }
    return "not-requested";
}

const char* digest_type_name(wire::DigestType t)
{
    switch (t) {
    case wire::DigestType::LegacyMd5:
        return "MD5 (legacy)";
    case wire::DigestType::Md5:
        return "MD5";
    case wire::DigestType::Sha1:
        return "SHA-1";
    case wire::DigestType::Sha256:
        return "SHA-256";
    }
    return "?";
}

/// The reply, decoded as far as it goes.
struct Decoded {
    std::string problem; // empty when the reply decoded completely
    bool have_header = false;
    wire::Header header;
    std::size_t credential_length = 0;
    wire::DecodedResponse body;
    DigestCheck digest = DigestCheck::NotRequested;

    bool ok() const noexcept { return problem.empty(); }
};

std::optional<std::vector<std::uint8_t>> compute_digest(wire::DigestType type, ByteSpan data)
{
    const EVP_MD* md = nullptr;
    switch (type) {
    case wire::DigestType::LegacyMd5:
    case wire::DigestType::Md5:
        md = EVP_md5();
        break;
    case wire::DigestType::Sha1:
        md = EVP_sha1();
        break;
    case wire::DigestType::Sha256:
        md = EVP_sha256();
        break;
    }
    if (md == nullptr)
        return std::nullopt;
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1)
        return std::nullopt;
    out.resize(len);
    return out;
}

Decoded decode(const DigExchange& x)
{
    Decoded d;
    const auto msg = wire::decode_message(x.reply.message);
    if (!msg) {
        d.problem = std::string("message: ") + wire::to_string(error_of(msg));
        return d;
    }
    d.have_header = true;
    d.header = msg->header;
    d.credential_length = msg->credential.size();
    if (d.header.is_request()) {
        d.problem = "not a response (ResponseCode 0)";
        return d;
    }
    auto body = wire::decode_response_body(d.header, msg->body);
    if (!body) {
        d.problem = std::string("body: ") + wire::to_string(error_of(body));
        return d;
    }
    d.body = std::move(*body);
    if (x.digest_requested) {
        if (!d.body.digest) {
            d.digest = DigestCheck::Missing;
        } else {
            const auto expected = compute_digest(d.body.digest->type, x.request_header_and_body);
            if (!expected)
                d.digest = DigestCheck::Unsupported;
            else
                d.digest =
                    *expected == d.body.digest->digest ? DigestCheck::Ok : DigestCheck::Mismatch;
        }
    }
    return d;
}

int exit_code_of(const Decoded& d)
{
    if (!d.ok() || d.digest == DigestCheck::Mismatch || d.digest == DigestCheck::Missing)
        return dig_exit::kMalformed;
    return d.header.response_code == static_cast<std::uint32_t>(wire::ResponseCode::Success)
               ? dig_exit::kSuccess
               : dig_exit::kNegative;
}

std::string rc_name(std::uint32_t rc)
{
    const char* n = wire::response_code_name(rc);
    return n ? n : "RC_UNKNOWN";
}

std::string opcode_label(std::uint32_t op)
{
    const char* n = wire::opcode_name(op);
    if (n == nullptr)
        return std::to_string(op);
    const std::string_view s(n);
    return std::string(s.substr(0, 3) == "OC_" ? s.substr(3) : s);
}

std::string upper(std::string s)
{
    for (char& c : s)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - ('a' - 'A'));
    return s;
}

bool is_site_type(const std::string& type)
{
    const std::string t = upper(type);
    return t == "HS_SITE" || t == "HS_SITE.6" || t == "HS_SITE.PREFIX";
}

std::string text_or_hex(ByteSpan data)
{
    if (data.empty())
        return "\"\"";
    return is_printable_utf8(data) ? quoted(data) : "0x" + hex(data);
}

const char* interface_type_name(std::uint8_t t)
{
    switch (t) {
    case wire::site::kInterfaceOutOfService:
        return "out-of-service";
    case wire::site::kInterfaceAdmin:
        return "admin";
    case wire::site::kInterfaceQuery:
        return "query";
    case wire::site::kInterfaceAdminAndQuery:
        return "admin+query";
    default:
        return "type?";
    }
}

std::string protocol_name(std::uint8_t p)
{
    switch (p) {
    case wire::site::kProtocolUdp:
        return "udp";
    case wire::site::kProtocolTcp:
        return "tcp";
    case wire::site::kProtocolHttp:
        return "http";
    case wire::site::kProtocolHttps:
        return "https";
    default:
        return "proto" + std::to_string(p);
    }
}

std::string hash_option_name(std::uint8_t h)
{
    switch (h) {
    case wire::site::kHashByPrefix:
        return "hash by prefix";
    case wire::site::kHashBySuffix:
        return "hash by suffix";
    case wire::site::kHashByHandle:
        return "hash by handle";
    default:
        return "hash option " + std::to_string(h);
    }
}

/// HS_SITE as a first line and continuation lines (each "\n" + 8 spaces).
std::string site_text(const wire::SiteInfo& s)
{
    std::string out = "site " + std::to_string(s.major) + "." + std::to_string(s.minor) +
                      " serial " + std::to_string(s.serial) +
                      (s.is_primary() ? " primary" : " secondary");
    if (s.primary_mask & wire::site::kMultiPrimaryMask)
        out += " multi-primary";
    out += ", " + hash_option_name(s.hash_option) + ", " + std::to_string(s.servers.size()) +
           (s.servers.size() == 1 ? " server" : " servers");
    for (const auto& srv : s.servers) {
        out += "\n        server " + std::to_string(srv.server_id) + " " +
               wire::format_site_address(srv.address);
        for (const auto& i : srv.interfaces)
            out += " " + protocol_name(i.protocol) + "/" + std::to_string(i.port) + " " +
                   interface_type_name(i.type);
        if (!srv.public_key.empty())
            out += " key " + std::to_string(srv.public_key.size()) + " B";
    }
    for (const auto& [name, value] : s.attributes)
        out += "\n        attr " + name + " " + text_or_hex(as_bytes(value));
    return out;
}

std::string admin_text(const wire::AdminRecord& a)
{
    char perms[8];
    std::snprintf(perms, sizeof perms, "0x%04x", a.permissions);
    return "admin " + a.admin_handle + ":" + std::to_string(a.admin_index) + " perms " + perms;
}

std::string references_text(const std::vector<wire::Reference>& refs)
{
    std::string out;
    for (const auto& r : refs) {
        if (!out.empty())
            out += ", ";
        out += r.handle + ":" + std::to_string(r.index);
    }
    return out;
}

std::string pad_right(std::string s, std::size_t width)
{
    if (s.size() < width)
        s.append(width - s.size(), ' ');
    return s;
}

std::string pad_left(std::string s, std::size_t width)
{
    if (s.size() < width)
        s.insert(0, width - s.size(), ' ');
    return s;
}

std::string plural(std::size_t n, const char* one, const char* many)
{
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string rtt_text(double ms)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", ms);
    return buf;
}

// ---- JSON ----

json site_json(const wire::SiteInfo& s)
{
    json servers = json::array();
    for (const auto& srv : s.servers) {
        json ifaces = json::array();
        for (const auto& i : srv.interfaces)
            ifaces.push_back({{"type", interface_type_name(i.type)},
                              {"protocol", protocol_name(i.protocol)},
                              {"port", i.port}});
        servers.push_back({{"server_id", srv.server_id},
                           {"address", wire::format_site_address(srv.address)},
                           {"public_key_hex", hex(srv.public_key)},
                           {"interfaces", ifaces}});
    }
    json attrs = json::array();
    for (const auto& [name, value] : s.attributes)
        attrs.push_back({{"name", name}, {"value", value}});
    return {{"version", std::to_string(s.major) + "." + std::to_string(s.minor)},
            {"serial", s.serial},
            {"primary", s.is_primary()},
            {"multi_primary", (s.primary_mask & wire::site::kMultiPrimaryMask) != 0},
            {"hash_option", s.hash_option},
            {"attributes", attrs},
            {"servers", servers}};
}

json refs_json(const std::vector<wire::Reference>& refs)
{
    json out = json::array();
    for (const auto& r : refs)
        out.push_back({{"handle", r.handle}, {"index", r.index}});
    return out;
}

json value_json(const wire::HandleValue& v)
{
    const ByteSpan data(v.data);
    json j = {{"index", v.index},
              {"type", v.type},
              {"ttl", v.ttl},
              {"ttl_type", v.ttl_type == wire::TtlType::Absolute ? "absolute" : "relative"},
              {"timestamp", v.timestamp},
              {"permissions", wire::permissions_string(v.permissions)},
              {"data",
               is_printable_utf8(data) ? json(std::string(as_string_view(data))) : json(hex(data))},
              {"data_hex", hex(data)},
              {"refs", refs_json(v.references)}};
    const std::string t = upper(v.type);
    if (is_site_type(t)) {
        if (auto s = wire::decode_site_info(data))
            j["decoded"] = site_json(*s);
    } else if (t == "HS_ADMIN") {
        if (auto a = wire::decode_admin_record(data))
            j["decoded"] = {{"admin_handle", a->admin_handle},
                            {"admin_index", a->admin_index},
                            {"permissions", a->permissions}};
    } else if (t == "HS_VLIST") {
        if (auto l = wire::decode_value_reference_list(data))
            j["decoded"] = refs_json(*l);
    }
    return j;
}

json values_json(const std::vector<wire::HandleValue>& values)
{
    json out = json::array();
    for (const auto& v : values)
        out.push_back(value_json(v));
    return out;
}

std::string dump(const json& j)
{
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace

std::vector<std::string> flag_names(std::uint32_t op_flags)
{
    namespace f = wire::opflag;
    static constexpr std::pair<std::uint32_t, const char*> kNames[] = {
        {f::kAuthoritative, "AT"},
        {f::kCertify, "CT"},
        {f::kEncrypt, "ENC"},
        {f::kRecursive, "REC"},
        {f::kCacheCertify, "CA"},
        {f::kContinuous, "CN"},
        {f::kKeepAlive, "KC"},
        {f::kPublicOnly, "PO"},
        {f::kReturnDigest, "RD"},
        {f::kOverwrite, "OVRW"},
        {f::kMintSuffix, "MINT"},
        {f::kDoNotRefer, "DNRF"},
        {f::kRecursiveAuth, "RECU_AUTH"},
    };
    std::vector<std::string> out;
    std::uint32_t rest = op_flags;
    for (const auto& [bit, name] : kNames) {
        if (op_flags & bit) {
            out.emplace_back(name);
            rest &= ~bit;
        }
    }
    if (rest != 0) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%08x", rest);
        out.emplace_back(buf);
    }
    return out;
}

std::string flags_string(std::uint32_t op_flags)
{
    std::string out;
    for (const std::string& n : flag_names(op_flags))
        out += (out.empty() ? "" : " ") + n;
    return out.empty() ? "-" : out;
}

std::string utc_time(std::uint32_t unix_seconds)
{
    const std::time_t t = unix_seconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string iso_time(std::uint32_t unix_seconds)
{
    const std::time_t t = unix_seconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string quoted(ByteSpan text)
{
    std::string out = "\"";
    for (const std::uint8_t c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += static_cast<char>(c);
    }
    return out + "\"";
}


std::string value_data_text(const wire::HandleValue& v, bool as_hex)
{
    const ByteSpan data(v.data);
    if (as_hex)
        return data.empty() ? "\"\"" : "0x" + hex(data);
    const std::string t = upper(v.type);
    if (is_site_type(t)) {
        if (auto s = wire::decode_site_info(data))
            return site_text(*s);
    } else if (t == "HS_ADMIN") {
        if (auto a = wire::decode_admin_record(data))
            return admin_text(*a);
    } else if (t == "HS_VLIST") {
        if (auto l = wire::decode_value_reference_list(data))
            return l->empty() ? "vlist (empty)" : "vlist " + references_text(*l);
    }
    return text_or_hex(data);
}

/// Width of the type column: at least 13, wide enough for the longest type of the answer.
std::size_t type_width(const std::vector<wire::HandleValue>& values)
{
    std::size_t w = 13;
    for (const auto& v : values)
        w = std::max(w, std::min<std::size_t>(v.type.size(), 40));
    return w;
}

std::string value_line(const wire::HandleValue& v, bool as_hex, std::size_t width)
{
    const std::string ttl = v.ttl_type == wire::TtlType::Absolute
                                ? "ttl until " + iso_time(v.ttl)
                                : "ttl " + std::to_string(v.ttl) + "s";
    std::string line = pad_left(std::to_string(v.index), 4) + "  " + pad_right(v.type, width) + " " +
                       ttl + "  " + wire::permissions_string(v.permissions) + "  " +
                       iso_time(v.timestamp) + "  " + value_data_text(v, as_hex);
    if (!v.references.empty())
        line += "  refs " + references_text(v.references);
    return line;
}

DigOutput format_text(const DigExchange& x, const DigFormatOptions& o)
{
    const Decoded d = decode(x);
    DigOutput out;
    out.exit_code = exit_code_of(d);
    std::string& s = out.text;
    const wire::Envelope& env = x.reply.envelope;
    if (d.have_header) {
        const wire::Header& h = d.header;
        s += ";; ->>HEADER<<- opcode: " + opcode_label(h.opcode) +
             "; status: " + rc_name(h.response_code) + " (" + std::to_string(h.response_code) +
             "); id: " + std::to_string(env.request_id) + "\n";
        s += ";; Flags: " + flags_string(h.op_flags) + "; version " + std::to_string(env.major) +
             "." + std::to_string(env.minor) + "; site serial " + std::to_string(h.site_serial) +
             "; expires " + utc_time(h.expiration) + "\n";
    }
    if (!d.ok()) {
        s += ";; MALFORMED REPLY: " + d.problem + "\n";
        s += ";; MESSAGE: " + std::to_string(x.reply.message.size()) + " B 0x" +
             hex(x.reply.message) + "\n";
    } else {
        if (d.body.digest) {
            s += ";; DIGEST: " + std::string(digest_type_name(d.body.digest->type));
            s += x.digest_requested ? std::string(" ") + digest_check_name(d.digest)
                                    : " (not requested)";
            s += "\n";
        } else if (x.digest_requested) {
            s += ";; DIGEST: missing\n";
        }
        if (!x.question.empty())
            s += ";; QUESTION: " + x.question + "\n";
        using Kind = wire::DecodedResponse::Kind;
        switch (d.body.kind) {
        case Kind::Resolution: {
            const auto& r = d.body.resolution;
            if (r.handle != x.question)
                s += ";; HANDLE: " + r.handle + "\n";
            s += ";; ANSWER: " + plural(r.values.size(), "value", "values") + "\n";
            for (const auto& v : r.values)
                s += value_line(v, o.hex, type_width(r.values)) + "\n";
            break;
        }
        case Kind::SiteInfo:
            s += ";; SITE INFO:\n        " + site_text(d.body.site_info) + "\n";
            break;
        case Kind::Referral: {
            const auto& r = d.body.referral;
            s += ";; REFERRAL: " +
                 (r.handle.empty() ? std::string("(service information follows)") : r.handle) +
                 "\n";
            if (!r.values.empty()) {
                s += ";; SERVICE: " + plural(r.values.size(), "value", "values") + "\n";
                for (const auto& v : r.values)
                    s += value_line(v, o.hex, type_width(r.values)) + "\n";
            }
            break;
        }
        case Kind::Challenge:
            s += ";; CHALLENGE: nonce 0x" + hex(d.body.challenge.nonce) + "\n";
            break;
        case Kind::Error: {
            // HANDLE.NET sends RC 100 with an empty message; the status line already says it all.
            if (!d.body.error.message.empty())
                s += ";; ERROR: " + text_or_hex(as_bytes(d.body.error.message)) + "\n";
            if (!d.body.error.failed_indexes.empty()) {
                std::string list;
                for (const std::uint32_t i : d.body.error.failed_indexes)
                    list += (list.empty() ? "" : ", ") + std::to_string(i);
                s += ";; FAILED INDEXES: " + list + "\n";
            }
            break;
        }
        case Kind::Raw:
            s += ";; BODY: " + std::to_string(d.body.raw.size()) + " B" +
                 (d.body.raw.empty() ? std::string() : " 0x" + hex(d.body.raw)) + "\n";
            break;
        }
        if (d.credential_length > 0)
            s += ";; CREDENTIAL: " + std::to_string(d.credential_length) + " B (not verified)\n";
    }
    s += ";; Received " + std::to_string(x.reply.bytes) + " B";
    if (!x.tcp)
        s += " in " + plural(x.reply.datagrams, "datagram", "datagrams");
    else if (x.reply.datagrams > 1)
        s += " in " + plural(x.reply.datagrams, "frame", "frames");
    s += " from " + x.server + (x.tcp ? " (TCP)" : " (UDP)") + " in " + rtt_text(x.reply.rtt_ms) +
         " ms\n";
    return out;
}

DigOutput format_json(const DigExchange& x, const DigFormatOptions&)
{
    const Decoded d = decode(x);
    DigOutput out;
    out.exit_code = exit_code_of(d);
    json j;
    switch (out.exit_code) {
    case dig_exit::kSuccess:
        j["status"] = "success";
        break;
    case dig_exit::kNegative:
        j["status"] = "negative";
        break;
    default:
        j["status"] = "malformed";
        break;
    }
    if (d.have_header) {
        j["response_code"] = d.header.response_code;
        j["response_code_name"] = rc_name(d.header.response_code);
        j["opcode"] = d.header.opcode;
        j["opcode_name"] =
            wire::opcode_name(d.header.opcode) ? wire::opcode_name(d.header.opcode) : "OC_UNKNOWN";
        j["flags"] = flag_names(d.header.op_flags);
        j["op_flags"] = d.header.op_flags;
        j["site_serial"] = d.header.site_serial;
        j["expiration"] = d.header.expiration;
    }
    j["request_id"] = x.reply.envelope.request_id;
    j["version"] =
        std::to_string(x.reply.envelope.major) + "." + std::to_string(x.reply.envelope.minor);
    j["question"] = x.question;
    if (!d.ok()) {
        j["error"] = d.problem;
        j["message_hex"] = hex(x.reply.message);
    } else {
        using Kind = wire::DecodedResponse::Kind;
        switch (d.body.kind) {
        case Kind::Resolution:
            j["handle"] = d.body.resolution.handle;
            j["values"] = values_json(d.body.resolution.values);
            break;
        case Kind::SiteInfo:
            j["site_info"] = site_json(d.body.site_info);
            break;
        case Kind::Referral:
            j["referral_handle"] = d.body.referral.handle;
            j["values"] = values_json(d.body.referral.values);
            break;
        case Kind::Challenge:
            j["nonce_hex"] = hex(d.body.challenge.nonce);
            break;
        case Kind::Error:
            j["error_message"] = d.body.error.message;
            if (!d.body.error.failed_indexes.empty())
                j["failed_indexes"] = d.body.error.failed_indexes;
            break;
        case Kind::Raw:
            j["body_hex"] = hex(d.body.raw);
            break;
        }
        if (d.body.digest || x.digest_requested) {
            json dj = {{"requested", x.digest_requested}, {"status", digest_check_name(d.digest)}};
            if (d.body.digest) {
                dj["type"] = digest_type_name(d.body.digest->type);
                dj["digest_hex"] = hex(d.body.digest->digest);
            }
            j["digest"] = dj;
        }
        if (d.credential_length > 0)
            j["credential_bytes"] = d.credential_length;
    }
    j["datagrams"] = x.reply.datagrams;
    j["bytes"] = x.reply.bytes;
    j["rtt_ms"] = x.reply.rtt_ms;
    j["server"] = x.server;
    j["transport"] = x.tcp ? "tcp" : "udp";
    out.text = dump(j);
    return out;
}

std::string format_json_failure(const std::string& server, bool tcp, const std::string& question,
                                const std::string& status, const std::string& message)
{
    json j = {{"status", status},
              {"error", message},
              {"question", question},
              {"server", server},
              {"transport", tcp ? "tcp" : "udp"}};
    return dump(j);
}

} // namespace idpath::tools
