// libFuzzer target: mirror::decode_binary() (controlplane/mirror/core/encode.hpp) on arbitrary
// bytes. It must never read out of bounds, crash or throw, must say why it refuses, and what it
// accepts must encode (binary and JSON) and decode back to the same batch.
//
// The XXH3 trailer would keep almost every mutation out of the body parser, so an input whose
// first octet is odd gets its checksum fixed up first (when its length field fits), and the
// fuzzer explores the fields behind it too.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "controlplane/mirror/core/encode.hpp"

namespace {

using namespace idpath;

bool same(const mirror::Batch& a, const mirror::Batch& b)
{
    if (a.id != b.id || a.replayed != b.replayed || a.records.size() != b.records.size() ||
        a.events.size() != b.events.size())
        return false;
    for (std::size_t i = 0; i < a.records.size(); ++i)
        if (std::memcmp(&a.records[i], &b.records[i], sizeof a.records[i]) != 0)
            return false;
    for (std::size_t i = 0; i < a.events.size(); ++i)
        if (a.events[i].seq != b.events[i].seq || a.events[i].time_ns != b.events[i].time_ns ||
            a.events[i].category != b.events[i].category || a.events[i].fields != b.events[i].fields)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const bool fix = data[0] & 1;
    // A copy of exactly `size` octets, so any read past the end is caught by ASan.
    std::vector<std::uint8_t> in(data + 1, data + size);
    if (fix && in.size() >= 40) {
        std::uint32_t total = 0;
        std::memcpy(&total, in.data() + 8, sizeof total);
        if (total >= 40 && total <= in.size()) {
            const std::uint64_t sum = XXH3_64bits(in.data(), total - 8);
            std::memcpy(in.data() + total - 8, &sum, sizeof sum);
        }
    }
    std::size_t used = 0;
    auto d = mirror::decode_binary(ByteSpan(in.data(), in.size()), used);
    if (!d) {
        if (d.error().empty() || used != 0)
            std::abort();
        return 0;
    }
    if (used == 0 || used > in.size())
        std::abort();
    std::string json;
    mirror::encode_json_lines(d->batch, d->origin, json);
    std::string again;
    mirror::encode_binary(d->batch, d->origin, again);
    std::size_t used2 = 0;
    auto d2 = mirror::decode_binary(as_bytes(again), used2);
    if (!d2 || used2 != again.size() || !same(d->batch, d2->batch) || d->origin.node_id != d2->origin.node_id ||
        d->origin.version != d2->origin.version)
        std::abort();
    return 0;
}
