// decode_site_info; the format is canonical, so what decodes must re-encode byte for byte.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/wire/site_info.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto site = decode_site_info(ByteSpan(data, size));
    if (!site)
        return 0;
    const std::vector<std::uint8_t> out = encode_site_info(*site);
    fuzz::check(out == std::vector<std::uint8_t>(data, data + size));
    for (const SiteServer& s : site->servers) {
        const std::string text = format_site_address(s.address);
        fuzz::check(!text.empty());
        std::array<std::uint8_t, 16> back{};
        fuzz::check(parse_site_address(text, back));
        // v4-mapped addresses come back in the IPv4-compatible form; all others exactly.
        if (s.is_ipv4() || !(s.address[10] == 0xff && s.address[11] == 0xff))
            fuzz::check(back == s.address);
    }
    return 0;
}
