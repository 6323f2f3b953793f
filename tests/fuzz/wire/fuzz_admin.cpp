// decode_admin_record and decode_value_reference_list on the same input.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/wire/admin_values.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const ByteSpan in(data, size);
    if (auto admin = decode_admin_record(in)) {
        fuzz::check(admin->admin_handle.size() <= kMaxHandleLength);
        // Legacy layouts normalise to the int2 form, which must then decode to the same record.
        const std::vector<std::uint8_t> out = encode_admin_record(*admin);
        fuzz::check(out.size() == size || out.size() + 2 == size);
        auto again = decode_admin_record(ByteSpan(out));
        fuzz::check(again.ok() && *again == *admin);
    }
    if (auto refs = decode_value_reference_list(in)) {
        const std::vector<std::uint8_t> out = encode_value_reference_list(*refs);
        fuzz::check(out == std::vector<std::uint8_t>(data, data + size));
    }
    return 0;
}
