#include "perf/datagen/handle_values.hpp"

#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::datagen {
namespace {

/// "rw--" etc. (docs/data-format.md): admin read, admin write, public read, public write.
std::uint8_t permission_bits(std::string_view text) noexcept
{
    if (text.size() != 4)
        return wire::perm::kDefault;
    std::uint8_t bits = 0;
    if (text[0] == 'r')
        bits |= wire::perm::kAdminRead;
    if (text[1] == 'w')
        bits |= wire::perm::kAdminWrite;
    if (text[2] == 'r')
        bits |= wire::perm::kPublicRead;
    if (text[3] == 'w')
        bits |= wire::perm::kPublicWrite;
    return bits;
}

} // namespace

std::vector<wire::HandleValue> to_handle_values(const Identifier& id)
{
    std::vector<wire::HandleValue> out;
    out.reserve(id.count);
    for (const GenValue& g : id.values()) {
        wire::HandleValue& v = out.emplace_back();
        v.index = g.index;
        v.timestamp = g.timestamp;
        if (g.ttl_given) {
            v.ttl = g.ttl;
            v.ttl_type = g.ttl_absolute ? wire::TtlType::Absolute : wire::TtlType::Relative;
        }
        v.permissions = permission_bits(g.permissions);
        v.type.assign(g.type);
        if (g.admin)
            v.data = wire::encode_admin_record({g.admin_permissions, g.data, g.admin_index});
        else
            v.data.assign(g.data.begin(), g.data.end());
    }
    return out;
}

} // namespace idpath::datagen
