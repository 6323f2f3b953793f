// decode_credential: every span it returns lies inside the input.
#include <cstddef>
#include <cstdint>

#include "dataplane/wire/credential.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

namespace {

bool inside(ByteSpan part, const std::uint8_t* data, std::size_t size)
{
    return part.empty() || (part.data() >= data && part.data() + part.size() <= data + size);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto c = decode_credential(ByteSpan(data, size));
    if (!c)
        return 0;
    fuzz::check(inside(c->signer_handle, data, size));
    fuzz::check(inside(c->type, data, size));
    fuzz::check(inside(c->digest_algorithm, data, size));
    fuzz::check(inside(c->signature, data, size));
    // Fixed fields, five lengths and the index account for every other octet.
    fuzz::check(4 + 4 + 4 + 4 + 4 + 4 + 4 + c->signer_handle.size() + c->type.size() +
                    c->digest_algorithm.size() + c->signature.size() ==
                size);
    return 0;
}
