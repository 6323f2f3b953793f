#include "controlplane/load/site_json.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace idpath::load {

using nlohmann::json;

namespace {

// Generous bounds: a real site has a handful of servers and interfaces; these only stop a
// typo or hostile file from producing a record no client would accept.
constexpr std::size_t kMaxServers = 256;
constexpr std::size_t kMaxInterfaces = 32;
constexpr std::size_t kMaxAttributes = 256;
constexpr std::size_t kMaxAttributeName = 256;
constexpr std::size_t kMaxAttributeValue = 4096;
constexpr std::size_t kMaxPublicKey = 16384;

struct Name {
    std::string_view text;
    std::uint8_t code;
};

constexpr std::array kHashNames{
    Name{"prefix", wire::site::kHashByPrefix},
    Name{"suffix", wire::site::kHashBySuffix},
    Name{"handle", wire::site::kHashByHandle},
};
constexpr std::array kInterfaceTypes{
    Name{"out-of-service", wire::site::kInterfaceOutOfService},
    Name{"admin", wire::site::kInterfaceAdmin},
    Name{"query", wire::site::kInterfaceQuery},
    Name{"admin+query", wire::site::kInterfaceAdminAndQuery},
};
constexpr std::array kProtocols{
    Name{"udp", wire::site::kProtocolUdp},
    Name{"tcp", wire::site::kProtocolTcp},
    Name{"http", wire::site::kProtocolHttp},
    Name{"https", wire::site::kProtocolHttps},
};

template <std::size_t N>
std::optional<std::uint8_t> read_name(const json& v, const std::string& path,
                                      const std::array<Name, N>& names, FieldErrors& errors)
{
    std::string choices;
    for (const Name& n : names)
        choices += (choices.empty() ? "" : ", ") + std::string(n.text);
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        for (const Name& n : names)
            if (s == n.text)
                return n.code;
        errors.push_back({path, "must be one of " + choices + ", got \"" + s + "\""});
        return std::nullopt;
    }
    errors.push_back({path, "must be one of " + choices});
    return std::nullopt;
}

std::optional<wire::SiteInterface> parse_interface(const json& v, const std::string& path,
                                                   FieldErrors& errors)
{
    ObjectFields f(v, path, errors);
    if (!f.is_object())
        return std::nullopt;
    std::optional<std::uint8_t> type, protocol;
    std::optional<std::uint64_t> port;
    if (const json* t = f.required("type"))
        type = read_name(*t, f.field_path("type"), kInterfaceTypes, errors);
    if (const json* p = f.required("protocol"))
        protocol = read_name(*p, f.field_path("protocol"), kProtocols, errors);
    if (const json* p = f.required("port"))
        port = read_unsigned(*p, f.field_path("port"), 65535, errors);
    f.report_unknown();
    if (!type || !protocol || !port)
        return std::nullopt;
    return wire::SiteInterface{*type, *protocol, static_cast<std::uint32_t>(*port)};
}

std::optional<wire::SiteServer> parse_server(const json& v, const std::string& path,
                                             FieldErrors& errors)
{
    ObjectFields f(v, path, errors);
    if (!f.is_object())
        return std::nullopt;
    const std::size_t errors_before = errors.size();
    wire::SiteServer server;
    if (const json* id = f.required("id"))
        if (auto n = read_unsigned(*id, f.field_path("id"), UINT32_MAX, errors))
            server.server_id = static_cast<std::uint32_t>(*n);
    if (const json* a = f.required("address")) {
        if (auto text = read_string(*a, f.field_path("address"), 1, 64, errors);
            text && !wire::parse_site_address(*text, server.address))
            errors.push_back(
                {f.field_path("address"), "\"" + *text + "\" is not an IPv4 or IPv6 address"});
    }
    if (const json* k = f.optional("public_key_hex"))
        if (auto key = read_hex(*k, f.field_path("public_key_hex"), kMaxPublicKey, errors))
            server.public_key = std::move(*key);
    if (const json* list = f.required("interfaces")) {
        const std::string ipath = f.field_path("interfaces");
        if (!list->is_array() || list->empty() || list->size() > kMaxInterfaces) {
            errors.push_back({ipath, "must be an array of 1.." + std::to_string(kMaxInterfaces) +
                                         " interfaces"});
        } else {
            for (std::size_t i = 0; i < list->size(); ++i)
                if (auto itf = parse_interface((*list)[i], index_path(ipath, i), errors))
                    server.interfaces.push_back(*itf);
        }
    }
    f.report_unknown();
    if (errors.size() != errors_before)
        return std::nullopt;
    return server;
}

void parse_attributes(const json& v, const std::string& path, wire::SiteInfo& site,
                      FieldErrors& errors)
{
    if (!v.is_object() || v.size() > kMaxAttributes) {
        errors.push_back({path, "must be an object of at most " + std::to_string(kMaxAttributes) +
                                    " name: \"value\" pairs"});
        return;
    }
    for (const auto& [name, value] : v.items()) {
        const std::string apath = join_path(path, name);
        if (name.empty() || name.size() > kMaxAttributeName) {
            errors.push_back(
                {apath, "attribute names are 1.." + std::to_string(kMaxAttributeName) + " octets"});
            continue;
        }
        if (auto s = read_string(value, apath, 0, kMaxAttributeValue, errors))
            site.attributes.emplace_back(name, std::move(*s));
    }
}

void parse_servers(const json& v, const std::string& path, wire::SiteInfo& site,
                   FieldErrors& errors)
{
    if (!v.is_array() || v.empty() || v.size() > kMaxServers) {
        errors.push_back(
            {path, "must be an array of 1.." + std::to_string(kMaxServers) + " servers"});
        return;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto server = parse_server(v[i], index_path(path, i), errors);
        if (!server)
            continue;
        // Clients pick servers by id (alt_addr.<id>); two servers with one id are ambiguous.
        const bool duplicate =
            std::any_of(site.servers.begin(), site.servers.end(),
                        [&](const auto& s) { return s.server_id == server->server_id; });
        if (duplicate)
            errors.push_back({join_path(index_path(path, i), "id"),
                              "server id " + std::to_string(server->server_id) + " is used twice"});
        site.servers.push_back(std::move(*server));
    }
}

} // namespace

std::optional<wire::SiteInfo> parse_site_json(const json& site, const std::string& path,
                                              FieldErrors& errors)
{
    const std::size_t errors_before = errors.size();
    ObjectFields f(site, path, errors);
    wire::SiteInfo info;
    if (f.is_object()) {
        if (const json* s = f.optional("serial"))
            if (auto n = read_unsigned(*s, f.field_path("serial"), 65535, errors))
                info.serial = static_cast<std::uint16_t>(*n);
        bool primary = true, multi_primary = false;
        if (const json* p = f.optional("primary"))
            primary = read_bool(*p, f.field_path("primary"), errors).value_or(primary);
        if (const json* m = f.optional("multi_primary"))
            multi_primary =
                read_bool(*m, f.field_path("multi_primary"), errors).value_or(multi_primary);
        info.primary_mask =
            static_cast<std::uint8_t>((primary ? wire::site::kPrimaryMask : 0) |
                                      (multi_primary ? wire::site::kMultiPrimaryMask : 0));
        if (const json* h = f.optional("hash"))
            if (auto code = read_name(*h, f.field_path("hash"), kHashNames, errors))
                info.hash_option = *code;
        if (const json* a = f.optional("attributes"))
            parse_attributes(*a, f.field_path("attributes"), info, errors);
        if (const json* s = f.required("servers"))
            parse_servers(*s, f.field_path("servers"), info, errors);
        f.report_unknown();
    }
    if (errors.size() != errors_before)
        return std::nullopt;
    return info;
}

} // namespace idpath::load
