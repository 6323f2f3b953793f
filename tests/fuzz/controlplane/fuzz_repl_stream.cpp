// libFuzzer target: the replication stream decoders (controlplane/replication/repl_stream.hpp)
// on arbitrary bytes, plain and with signed blocks. Octet 0 seeds the sizes of the pieces the
// rest is fed in. It may not crash; every refusal says why; feeding in pieces gives exactly the
// items, offset and error of feeding all at once; returned values are count well-formed values.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "controlplane/replication/repl_stream.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/value.hpp"

using namespace idpath;
using namespace idpath::replication;

namespace {

struct Outcome {
    std::size_t items = 0;
    std::uint64_t offset = 0;
    std::string error;
    bool operator==(const Outcome&) const = default;
};

void check_values(std::uint32_t count, const std::vector<std::uint8_t>& encoded)
{
    ByteReader r(encoded);
    for (std::uint32_t i = 0; i < count; ++i)
        if (!wire::decode_value(r))
            std::abort();
    if (!r.at_end())
        std::abort();
}

void check(const TxnItem& it)
{
    if (const auto* r = std::get_if<TxnRecord>(&it)) {
        if (r->handle.empty())
            std::abort();
        check_values(r->value_count, r->values);
    }
}

void check(const DumpItem& it)
{
    if (const auto* h = std::get_if<DumpHandle>(&it))
        check_values(h->values.count, h->values.encoded);
}

template <class Decoder, class Item>
Outcome run(ByteSpan data, bool signed_blocks, std::uint8_t seed)
{
    StreamLimits lim;
    lim.signed_blocks = signed_blocks;
    lim.max_values = 512;
    lim.max_value_bytes = 1u << 16;
    Decoder d(lim);
    Outcome o;
    std::uint32_t state = seed;
    std::size_t at = 0;
    while (at < data.size()) {
        std::size_t piece = data.size() - at;
        if (seed != 0) {
            state = state * 1103515245u + 12345u;
            piece = std::min<std::size_t>(piece, 1 + (state >> 16) % 64);
        }
        d.feed(data.subspan(at, piece));
        at += piece;
        for (;;) {
            Item it;
            auto r = d.next(it);
            if (!r) {
                if (r.error().empty())
                    std::abort();
                o.error = r.error();
                o.offset = d.offset();
                return o;
            }
            if (!*r)
                break;
            check(it);
            if (d.offset() > at)
                std::abort();
            ++o.items;
        }
    }
    o.offset = d.offset();
    return o;
}

template <class Decoder, class Item>
void both_ways(ByteSpan data, bool signed_blocks, std::uint8_t seed)
{
    if (!(run<Decoder, Item>(data, signed_blocks, 0) == run<Decoder, Item>(data, signed_blocks, seed)))
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t seed = static_cast<std::uint8_t>(data[0] | 1);
    const ByteSpan stream(data + 1, size - 1);
    for (bool signed_blocks : {false, true}) {
        both_ways<TxnStreamDecoder, TxnItem>(stream, signed_blocks, seed);
        both_ways<DumpStreamDecoder, DumpItem>(stream, signed_blocks, seed);
    }
    return 0;
}
