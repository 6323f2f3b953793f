// libFuzzer target: table::snapshot::load_snapshot() on arbitrary bytes. It must never crash,
// read out of bounds or throw; every refusal says why; and a file it accepts is canonical: the
// loaded table saves back to the very same octets, and lookups in it stay inside it.
//
// Random bytes almost never carry the right checksums, which would keep the fuzzer out of the
// structure check (TableAssembler::check) behind them; so each input is also tried "resealed":
// its checksums recomputed as a saver would, the rest as the fuzzer made it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dataplane/table/snapshot.hpp"

namespace snap = idpath::table::snapshot;

namespace {

std::uint64_t u64(const std::vector<std::uint8_t>& f, std::size_t at)
{
    std::uint64_t v;
    std::memcpy(&v, f.data() + at, sizeof v);
    return v;
}

/// Checksums recomputed where the (untrusted) header and directory point inside the file.
/// Offsets from docs/snapshot-format.md.
void reseal(std::vector<std::uint8_t>& f)
{
    if (f.size() < snap::kHeaderBytes)
        return;
    std::uint32_t bits;
    std::memcpy(&bits, f.data() + 40, 4);
    const std::uint64_t shards = bits <= 16 ? std::uint64_t{1} << bits : 0;
    const std::uint64_t homed_end = u64(f, 88) + u64(f, 96);
    if (u64(f, 88) > f.size() || homed_end > f.size() || homed_end < snap::kHeaderBytes)
        return;
    for (std::uint64_t s = 0; s < shards && snap::kHeaderBytes + (s + 1) * 64 <= homed_end; ++s) {
        const std::size_t e = snap::kHeaderBytes + s * 64;
        std::uint32_t buckets;
        std::memcpy(&buckets, f.data() + e, 4);
        const std::uint64_t b_at = u64(f, e + 32), a_at = u64(f, e + 40), a_len = u64(f, e + 48);
        const std::uint64_t b_len = std::uint64_t{buckets} * 64;
        if (b_at > f.size() || b_len > f.size() - b_at || a_at > f.size() || a_len > f.size() - a_at)
            continue;
        const std::uint64_t sum = snap::shard_checksum({f.data() + b_at, b_len}, {f.data() + a_at, a_len});
        std::memcpy(f.data() + e + 56, &sum, 8);
    }
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, f.data(), 248);
    XXH3_64bits_update(&st, f.data() + snap::kHeaderBytes, homed_end - snap::kHeaderBytes);
    const std::uint64_t sum = XXH3_64bits_digest(&st);
    std::memcpy(f.data() + 248, &sum, 8);
}

void try_load(idpath::ByteSpan file)
{
    auto loaded = snap::load_snapshot(file);
    if (!loaded) {
        if (loaded.error().rfind("snapshot: ", 0) != 0)
            std::abort(); // every refusal is named
        return;
    }
    const auto head = snap::read_snapshot_head(file);
    if (!head)
        std::abort();
    const auto again = snap::encode_snapshot(**loaded, {head->created_unix, head->source});
    if (!std::equal(again.begin(), again.end(), file.begin(), file.end()))
        std::abort();
    // Keys made of the input: any bucket, any tag; a lookup must stay in the table (ASan).
    for (std::size_t at = 0; at + 16 <= file.size() && at < 4096; at += 61) {
        const std::string_view key(reinterpret_cast<const char*>(file.data() + at), 16);
        if (const auto r = (*loaded)->find(key); r && r->encoded.size() > file.size())
            std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try_load({data, size});
    std::vector<std::uint8_t> sealed(data, data + size);
    reseal(sealed);
    if (!std::equal(sealed.begin(), sealed.end(), data))
        try_load(sealed);
    return 0;
}
