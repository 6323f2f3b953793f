#include "controlplane/config/yaml_json.hpp"

#include <charconv>
#include <cstdint>

namespace idpath::config {

using nlohmann::json;

namespace {

constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxNodes = 10000;

json scalar_to_json(const YAML::Node& node)
{
    const std::string& s = node.Scalar();
    // yaml-cpp tags a quoted scalar "!": the author asked for a string.
    if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str")
        return s;
    if (s == "true" || s == "True" || s == "TRUE")
        return true;
    if (s == "false" || s == "False" || s == "FALSE")
        return false;
    const char* const end = s.data() + s.size();
    if (!s.empty() && s[0] == '-') {
        std::int64_t v = 0;
        if (auto [p, ec] = std::from_chars(s.data(), end, v); ec == std::errc{} && p == end)
            return v;
    } else {
        const char* begin = !s.empty() && s[0] == '+' ? s.data() + 1 : s.data();
        std::uint64_t v = 0;
        if (auto [p, ec] = std::from_chars(begin, end, v);
            ec == std::errc{} && p == end && begin != end)
            return v;
    }
    return s;
}

class Converter {
public:
    Converter(YamlJson& out, load::FieldErrors& errors) : out_(out), errors_(errors) {}

    json convert(const YAML::Node& node, const std::string& path, int depth)
    {
        out_.marks.emplace(path, node.Mark());
        if (++nodes_ > kMaxNodes) {
            fail(path, "more than " + std::to_string(kMaxNodes) + " YAML nodes");
            return nullptr;
        }
        if (depth > kMaxDepth) {
            fail(path, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
            return nullptr;
        }
        switch (node.Type()) {
        case YAML::NodeType::Scalar: return scalar_to_json(node);
        case YAML::NodeType::Sequence: {
            json a = json::array();
            std::size_t i = 0;
            for (const auto& item : node) {
                a.push_back(convert(item, load::index_path(path, i++), depth + 1));
                if (failed_)
                    break;
            }
            return a;
        }
        case YAML::NodeType::Map: {
            json o = json::object();
            for (const auto& kv : node) {
                if (!kv.first.IsScalar()) {
                    fail(path, "mapping keys must be plain names");
                    break;
                }
                const std::string& key = kv.first.Scalar();
                const std::string child = load::join_path(path, key);
                if (o.contains(key)) {
                    out_.marks[child] = kv.first.Mark();
                    fail(child, "duplicate key");
                    break;
                }
                o[key] = convert(kv.second, child, depth + 1);
                if (failed_)
                    break;
            }
            return o;
        }
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: return nullptr;
        }
        return nullptr;
    }

private:
    void fail(const std::string& path, std::string reason)
    {
        if (!failed_)
            errors_.push_back({path, std::move(reason)});
        failed_ = true;
    }

    YamlJson& out_;
    std::size_t nodes_ = 0;
    bool failed_ = false;
    load::FieldErrors& errors_;
};

} // namespace

YamlJson yaml_to_json(const YAML::Node& node, const std::string& path, load::FieldErrors& errors)
{
    YamlJson out;
    Converter c(out, errors);
    out.value = c.convert(node, path, 0);
    return out;
}

} // namespace idpath::config
