#include "controlplane/load/value_json.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "controlplane/load/site_json.hpp"
#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/site_info.hpp"

namespace idpath::load {

using nlohmann::json;

namespace {

// A value's data can never exceed what one response message carries; the record-level check in
// identifier_line.cpp enforces the tighter per-handle bound.
constexpr std::size_t kMaxDataBytes = wire::kMaxMessageLength;
// HS_VLIST and refs entries are at least 8 octets each on the wire.
constexpr std::size_t kMaxReferences = wire::kMaxMessageLength / 8;

struct AdminPermissionName {
    std::string_view name;
    std::uint16_t bits;
};

constexpr std::array kAdminPermissionNames{
    AdminPermissionName{"add_handle", wire::admin_perm::kAddHandle},
    AdminPermissionName{"delete_handle", wire::admin_perm::kDeleteHandle},
    AdminPermissionName{"add_derived_prefix", wire::admin_perm::kAddDerivedPrefix},
    AdminPermissionName{"delete_derived_prefix", wire::admin_perm::kDeleteDerivedPrefix},
    AdminPermissionName{"modify_value", wire::admin_perm::kModifyValue},
    AdminPermissionName{"remove_value", wire::admin_perm::kRemoveValue},
    AdminPermissionName{"add_value", wire::admin_perm::kAddValue},
    AdminPermissionName{"modify_admin", wire::admin_perm::kModifyAdmin},
    AdminPermissionName{"remove_admin", wire::admin_perm::kRemoveAdmin},
    AdminPermissionName{"add_admin", wire::admin_perm::kAddAdmin},
    AdminPermissionName{"authorized_read", wire::admin_perm::kAuthorizedRead},
    AdminPermissionName{"list_handles", wire::admin_perm::kListHandles},
    AdminPermissionName{"list_derived_prefixes", wire::admin_perm::kListDerivedPrefixes},
    AdminPermissionName{"all", wire::admin_perm::kAll},
};

std::optional<std::uint16_t> read_admin_permissions(const json& v, const std::string& path,
                                                    FieldErrors& errors)
{
    if (v.is_number())
        return read_unsigned(v, path, 0xffff, errors);
    if (!v.is_array()) {
        errors.push_back({path, "must be a list of permission names or an integer 0..65535"});
        return std::nullopt;
    }
    std::uint16_t bits = 0;
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const json& name = v[i];
        const auto* s = name.is_string() ? &name.get_ref<const std::string&>() : nullptr;
        const auto* it = std::find_if(kAdminPermissionNames.begin(), kAdminPermissionNames.end(),
                                      [&](const auto& p) { return s && p.name == *s; });
        if (it == kAdminPermissionNames.end()) {
            std::string known;
            for (const auto& p : kAdminPermissionNames)
                known += (known.empty() ? "" : ", ") + std::string(p.name);
            errors.push_back({index_path(path, i), "unknown permission (known: " + known + ")"});
            ok = false;
            continue;
        }
        bits = static_cast<std::uint16_t>(bits | it->bits);
    }
    if (!ok)
        return std::nullopt;
    return bits;
}

std::optional<std::vector<std::uint8_t>> read_admin(const json& v, const std::string& path,
                                                    FieldErrors& errors)
{
    ObjectFields f(v, path, errors);
    if (!f.is_object())
        return std::nullopt;
    const std::size_t errors_before = errors.size();
    wire::AdminRecord admin;
    if (const json* h = f.required("handle"))
        if (auto s = read_handle(*h, f.field_path("handle"), errors))
            admin.admin_handle = std::move(*s);
    if (const json* i = f.required("index"))
        if (auto n = read_unsigned(*i, f.field_path("index"), UINT32_MAX, errors))
            admin.admin_index = static_cast<std::uint32_t>(*n);
    if (const json* p = f.optional("permissions"))
        if (auto bits = read_admin_permissions(*p, f.field_path("permissions"), errors))
            admin.permissions = *bits;
    f.report_unknown();
    if (errors.size() != errors_before)
        return std::nullopt;
    return wire::encode_admin_record(admin);
}

std::optional<std::vector<std::uint8_t>> read_site(const json& v, const std::string& path,
                                                   FieldErrors& errors)
{
    auto site = parse_site_json(v, path, errors);
    if (!site)
        return std::nullopt;
    return wire::encode_site_info(*site);
}

std::optional<std::vector<std::uint8_t>> read_vlist(const json& v, const std::string& path,
                                                    FieldErrors& errors)
{
    auto refs = read_references(v, path, kMaxReferences, errors);
    if (!refs)
        return std::nullopt;
    return wire::encode_value_reference_list(*refs);
}

// The structured data forms each encode one specific type; pairing them with another type
// would publish bytes that clients decode as garbage.
bool type_matches(std::string_view form, std::string_view type)
{
    if (form == "site")
        return type == "HS_SITE" || type == "HS_SITE.6" || type == "HS_SITE.PREFIX";
    if (form == "admin")
        return type == "HS_ADMIN";
    if (form == "vlist")
        return type == "HS_VLIST";
    return true;
}

constexpr std::string_view kSiteTypes = "HS_SITE, HS_SITE.6 or HS_SITE.PREFIX";

std::optional<std::vector<std::uint8_t>>
read_data(ObjectFields& f, const std::optional<std::string>& type, FieldErrors& errors)
{
    static constexpr std::array<std::string_view, 5> kForms{"data", "data_hex", "site", "admin",
                                                            "vlist"};
    std::string_view form;
    const json* field = nullptr;
    std::string present;
    std::size_t count = 0;
    // Ask for every form so that none is later reported as an unknown field.
    for (std::string_view name : kForms) {
        if (const json* v = f.optional(name)) {
            present += (count++ ? ", " : "") + std::string(name);
            if (!field) {
                form = name;
                field = v;
            }
        }
    }
    if (count > 1) {
        errors.push_back({f.path(), "has " + present + "; a value takes exactly one data field"});
        return std::nullopt;
    }
    if (!field) {
        errors.push_back({f.path(), "needs one data field: data, data_hex, site, admin or vlist"});
        return std::nullopt;
    }
    const std::string path = f.field_path(form);
    if (type && !type_matches(form, *type)) {
        const std::string want = form == "site"    ? std::string(kSiteTypes)
                                 : form == "admin" ? "HS_ADMIN"
                                                   : "HS_VLIST";
        errors.push_back({path, "\"" + std::string(form) + "\" data needs type " + want +
                                    ", not \"" + *type + "\""});
        return std::nullopt;
    }
    if (form == "data") {
        auto s = read_string(*field, path, 0, kMaxDataBytes, errors);
        if (!s)
            return std::nullopt;
        return std::vector<std::uint8_t>(s->begin(), s->end());
    }
    if (form == "data_hex")
        return read_hex(*field, path, kMaxDataBytes, errors);
    if (form == "site")
        return read_site(*field, path, errors);
    if (form == "admin")
        return read_admin(*field, path, errors);
    return read_vlist(*field, path, errors);
}

} // namespace

std::optional<std::uint8_t> parse_permissions(std::string_view text)
{
    static constexpr std::array<char, 4> kLetters{'r', 'w', 'r', 'w'};
    static constexpr std::array<std::uint8_t, 4> kBits{
        wire::perm::kAdminRead, wire::perm::kAdminWrite, wire::perm::kPublicRead,
        wire::perm::kPublicWrite};
    if (text.size() != 4)
        return std::nullopt;
    std::uint8_t bits = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (text[i] == kLetters[i])
            bits = static_cast<std::uint8_t>(bits | kBits[i]);
        else if (text[i] != '-')
            return std::nullopt;
    }
    return bits;
}

std::optional<wire::HandleValue> parse_value_json(const json& value, const std::string& path,
                                                  std::uint32_t default_timestamp,
                                                  FieldErrors& errors)
{
    ObjectFields f(value, path, errors);
    if (!f.is_object())
        return std::nullopt;
    const std::size_t errors_before = errors.size();
    wire::HandleValue v;
    v.timestamp = default_timestamp;

    if (const json* i = f.required("index"))
        if (auto n = read_unsigned(*i, f.field_path("index"), UINT32_MAX, errors))
            v.index = static_cast<std::uint32_t>(*n);
    std::optional<std::string> type;
    if (const json* t = f.required("type"))
        type = read_string(*t, f.field_path("type"), 1, wire::kMaxHandleLength, errors);
    if (auto data = read_data(f, type, errors))
        v.data = std::move(*data);
    if (const json* t = f.optional("ttl"))
        if (auto n = read_unsigned(*t, f.field_path("ttl"), UINT32_MAX, errors))
            v.ttl = static_cast<std::uint32_t>(*n);
    if (const json* t = f.optional("ttl_type")) {
        if (t->is_string() && *t == "relative")
            v.ttl_type = wire::TtlType::Relative;
        else if (t->is_string() && *t == "absolute")
            v.ttl_type = wire::TtlType::Absolute;
        else
            errors.push_back({f.field_path("ttl_type"), "must be \"relative\" or \"absolute\""});
    }
    if (const json* t = f.optional("timestamp"))
        if (auto n = read_unsigned(*t, f.field_path("timestamp"), UINT32_MAX, errors))
            v.timestamp = static_cast<std::uint32_t>(*n);
    if (const json* p = f.optional("permissions")) {
        auto bits =
            p->is_string() ? parse_permissions(p->get_ref<const std::string&>()) : std::nullopt;
        if (bits)
            v.permissions = *bits;
        else
            errors.push_back(
                {f.field_path("permissions"),
                 "must be four characters like \"rwr-\": admin read (r or -), admin write "
                 "(w or -), public read (r or -), public write (w or -)"});
    }
    if (const json* r = f.optional("refs"))
        if (auto refs = read_references(*r, f.field_path("refs"), kMaxReferences, errors))
            v.references = std::move(*refs);
    f.report_unknown();
    if (errors.size() != errors_before)
        return std::nullopt;
    if (type)
        v.type = std::move(*type);
    return v;
}

} // namespace idpath::load
