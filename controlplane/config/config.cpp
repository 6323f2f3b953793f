#include "controlplane/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <optional>
#include <sstream>
#include <tuple>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "controlplane/config/config_walk.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::config {

namespace {

// A config is a page of YAML; anything this large is a wrong path, not a config.
constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;

std::vector<socket::Endpoint> default_listeners()
{
    std::vector<socket::Endpoint> v;
    for (const char* text : {"0.0.0.0", "::"})
        if (auto e = socket::parse_endpoint(text, wire::kDefaultPort))
            v.push_back(*e);
    return v;
}

ConfigError at_mark(const std::filesystem::path& file, const YAML::Mark& m, std::string reason)
{
    const bool known = m.line >= 0 && m.column >= 0;
    return {file.string(), known ? m.line + 1 : 0, known ? m.column + 1 : 0, "", std::move(reason)};
}

Result<Config, std::vector<ConfigError>> one_error(ConfigError e)
{
    return Err{std::vector<ConfigError>{std::move(e)}};
}

// Records where documents start and nothing else.
class DocumentStarts : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> marks;

    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override
    {
    }
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override
    {
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override
    {
    }
    void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll() never returns, allocating all the while, on input such as a document
// that starts with ',' (jbeder/yaml-cpp#1040, fixed upstream after 0.8). So documents are
// counted in a loop bounded here, and only the first is built, by Load(). Throws as Load() does.
std::optional<YAML::Mark> second_document(const std::string& text)
{
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
    }
    if (starts.marks.size() > 1)
        return starts.marks[1];
    return std::nullopt;
}

} // namespace

Config::Service::Service() : udp(default_listeners()), tcp(default_listeners()) {}

std::string ConfigError::to_string() const
{
    std::string s = file;
    if (line > 0) {
        s += ":" + std::to_string(line);
        if (column > 0)
            s += ":" + std::to_string(column);
    }
    s += ": ";
    if (!key.empty())
        s += key + ": ";
    return s + reason;
}

Result<Config, std::vector<ConfigError>>
parse_config(std::string_view yaml_text, const std::filesystem::path& file_for_errors_and_base_dir)
{
    const auto& file = file_for_errors_and_base_dir;
    // Every yaml-cpp exception stops here (research/aesthetics.md section 4.5).
    try {
        const std::string text(yaml_text);
        if (const auto second = second_document(text))
            return one_error(
                at_mark(file, *second, "more than one YAML document; idpathd reads one"));
        WalkContext cx;
        build_config(YAML::Load(text), file, cx);
        if (!cx.errors.empty()) {
            // Document order reads best; the walk adds missing-key errors after the rest.
            std::stable_sort(cx.errors.begin(), cx.errors.end(), [](const auto& a, const auto& b) {
                return std::tie(a.line, a.column) < std::tie(b.line, b.column);
            });
            return Err{std::move(cx.errors)};
        }
        return std::move(cx.config);
    } catch (const YAML::ParserException& e) {
        return one_error(at_mark(file, e.mark, "YAML syntax error: " + e.msg));
    } catch (const YAML::Exception& e) {
        return one_error(at_mark(file, e.mark, "YAML error: " + e.msg));
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        return one_error(
            {file.string(), 0, 0, "", std::string("cannot read the YAML: ") + e.what()});
    }
}

Result<Config, std::vector<ConfigError>> load_config_file(const std::filesystem::path& file)
{
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (ec)
        return one_error({file.string(), 0, 0, "", "cannot read: " + ec.message()});
    if (!std::filesystem::is_regular_file(status))
        return one_error({file.string(), 0, 0, "", "not a regular file"});
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec)
        return one_error({file.string(), 0, 0, "", "cannot read: " + ec.message()});
    if (size > kMaxConfigBytes)
        return one_error({file.string(), 0, 0, "", "larger than 16 MiB; not a config file"});
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return one_error(
            {file.string(), 0, 0, "", std::string("cannot read: ") + std::strerror(errno)});
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad())
        return one_error(
            {file.string(), 0, 0, "", std::string("read error: ") + std::strerror(errno)});
    return parse_config(text, file);
}

} // namespace idpath::config
