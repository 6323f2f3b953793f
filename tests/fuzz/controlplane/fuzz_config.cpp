// libFuzzer target: config::parse_config() on arbitrary text. It must never crash, hang or throw
// (yaml-cpp exceptions stay inside controlplane/config), and every error must be well formed.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "controlplane/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // Relative identifier files resolve under a directory that does not exist, so the fuzzer
    // only ever stats absolute paths it invents; nothing is read.
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = idpath::config::parse_config(text, "/nonexistent/idpath-fuzz/idpathd.yaml");
    if (r) {
        if (r->node.id.empty() || r->node.role != "authoritative")
            std::abort();
        if (r->service.udp.empty() && r->service.tcp.empty())
            std::abort();
        return 0;
    }
    if (r.error().empty())
        std::abort();
    for (const auto& e : r.error())
        if (e.reason.empty() || e.line < 0 || e.column < 0 || e.to_string().empty())
            std::abort();
    return 0;
}
