// libFuzzer target: load::parse_identifier_line() on arbitrary bytes. It must never crash, throw
// or accept a record that breaks its own contract.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "controlplane/load/jsonl_loader.hpp"
#include "dataplane/wire/constants.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    auto r = idpath::load::parse_identifier_line(line, 1700000000);
    if (!r) {
        if (r.error().empty())
            std::abort(); // every refusal says why
        return 0;
    }
    const auto& rec = *r;
    if (rec.handle.empty() || rec.handle.size() > idpath::wire::kMaxHandleLength ||
        rec.handle.find('/') == std::string::npos)
        std::abort();
    if (rec.values.empty() || rec.values.size() > idpath::wire::kMaxValues)
        std::abort();
    std::vector<std::uint32_t> indexes;
    std::size_t bytes = 0;
    for (const auto& v : rec.values) {
        if (v.type.empty() || v.type.size() > idpath::wire::kMaxHandleLength)
            std::abort();
        indexes.push_back(v.index);
        bytes += idpath::wire::encoded_size(v);
    }
    std::sort(indexes.begin(), indexes.end());
    if (std::adjacent_find(indexes.begin(), indexes.end()) != indexes.end())
        std::abort();
    if (bytes > idpath::wire::kMaxMessageLength)
        std::abort();
    return 0;
}
