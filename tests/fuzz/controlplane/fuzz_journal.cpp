// libFuzzer target: journal::scan_journal() on arbitrary bytes. It may not crash; a scan that
// succeeds accounts for every octet (valid + torn = size), and the entries it returns encode
// back to exactly the valid octets after the header (of either version; its reserved field is
// not checked).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "controlplane/journal/journal_format.hpp"

using namespace idpath;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const ByteSpan file(data, size);
    std::vector<std::uint8_t> again; // the entries only
    auto r = journal::scan_journal(file, [&](const journal::Entry& e) { journal::encode_entry(e, again); });
    if (!r) {
        if (r.error().empty())
            std::abort(); // every refusal says why
        return 0;
    }
    if (r->header_missing)
        return 0;
    if (r->valid_bytes + r->torn_bytes != size || r->header_bytes > r->valid_bytes ||
        again.size() != r->valid_bytes - r->header_bytes ||
        (!again.empty() && std::memcmp(again.data(), data + r->header_bytes, again.size()) != 0))
        std::abort();
    return 0;
}
