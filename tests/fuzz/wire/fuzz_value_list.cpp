// decode_value_list; what decodes must re-encode to the same octets and decode again equal.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/wire/value.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    ByteReader r(ByteSpan(data, size));
    auto values = decode_value_list(r);
    if (!values)
        return 0;
    fuzz::check(values->size() <= kMaxValues);
    const std::size_t consumed = r.position();
    std::size_t total = 4;
    for (const HandleValue& v : *values)
        total += encoded_size(v);
    fuzz::check(total == consumed);

    std::vector<std::uint8_t> out(total);
    ByteWriter w(out);
    w.u32(static_cast<std::uint32_t>(values->size()));
    for (const HandleValue& v : *values)
        encode_value(w, v);
    fuzz::check(w.ok() && w.size() == total);
    fuzz::check(std::equal(out.begin(), out.end(), data));

    // The in-place view agrees with the owning decoder.
    ByteReader again(ByteSpan(data, size));
    (void)again.u32();
    for (const HandleValue& v : *values) {
        auto view = decode_value(again);
        fuzz::check(view.ok());
        fuzz::check(to_owned(*view) == v);
        fuzz::check(view->encoded.size() == encoded_size(v));
        fuzz::check(permissions_string(view->permissions).size() == 4);
    }
    return 0;
}
