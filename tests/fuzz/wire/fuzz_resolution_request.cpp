// decode_resolution_request on a raw body; a valid request must re-encode to the same octets.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/wire/resolution.hpp"
#include "tests/fuzz/wire/fuzz_util.hpp"

using namespace idpath;
using namespace idpath::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const ByteSpan body(data, size);
    auto req = decode_resolution_request(body);
    if (!req)
        return 0;
    fuzz::check(!req->handle.empty() && req->handle.size() <= kMaxHandleLength);
    fuzz::check(req->indexes.size() == std::size_t{req->index_count} * 4);
    std::vector<std::uint32_t> indexes;
    for (std::uint32_t i = 0; i < req->index_count; ++i)
        indexes.push_back(req->index_at(i));
    std::vector<std::string_view> types;
    TypeListIterator it(*req);
    for (ByteSpan t; it.next(t);)
        types.push_back(as_string_view(t));
    fuzz::check(types.size() == req->type_count);

    std::vector<std::uint8_t> out(size);
    ByteWriter w(out);
    encode_resolution_request(w, as_string_view(req->handle), indexes, types);
    fuzz::check(w.ok() && w.size() == size);
    fuzz::check(out == std::vector<std::uint8_t>(data, data + size));
    return 0;
}
