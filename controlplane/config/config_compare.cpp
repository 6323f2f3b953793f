#include <variant>

#include "controlplane/config/config.hpp"
#include "controlplane/config/schema.hpp"

namespace idpath::config {

namespace {

bool same(const std::vector<socket::Endpoint>& a, const std::vector<socket::Endpoint>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].to_string() != b[i].to_string())
            return false;
    return true;
}

bool same(const Config::Site& a, const Config::Site& b)
{
    return a.configured == b.configured && a.info == b.info;
}

template <class T>
bool same(const T& a, const T& b)
{
    return a == b;
}

} // namespace

std::vector<std::string> changed_keys(const Config& a, const Config& b)
{
    // The schema's accessors take a mutable Config; copies keep the arguments const.
    Config x = a, y = b;
    std::vector<std::string> changed;
    for (const KeySpec& k : schema()) {
        const bool equal =
            std::visit([&](auto field) { return same(field(x), field(y)); }, k.field);
        if (!equal)
            changed.emplace_back(k.path);
    }
    return changed;
}

std::vector<std::string> restart_required_keys(const Config& running, const Config& next)
{
    std::vector<std::string> keys;
    for (auto& key : changed_keys(running, next))
        if (const KeySpec* k = find_key(key); k && k->reload == Reload::InitOnly)
            keys.push_back(std::move(key));
    return keys;
}

} // namespace idpath::config
