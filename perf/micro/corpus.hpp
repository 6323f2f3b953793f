#pragma once
/// The benchmark data: an in-memory table of n identifiers with realistic values, and pools of
/// pre-encoded RESOLUTION requests over it, so a timed loop only resolves.
///
/// Two kinds of identifier sets:
///  - Fixed: every identifier "88.100.1/bench-<8 digits>" has four values: a URL (~60 octets),
///    an EMAIL, an HS_ADMIN and a custom type with ~80 octets of JSON (341 octets encoded in
///    all); a full answer is ~420 octets, one datagram.
///  - Realistic: idpath-datagen's identifiers (perf/datagen, default options: prefix 88.100.1,
///    seed 1), built in process: Zipf-skewed handle lengths, 1-6 values of 50-500 octets of data
///    (docs/idpath-datagen.md); about a third of the answers take two 512-octet datagrams.
/// Built once per size and kept for the process (1 M identifiers take a few seconds).
/// Thread-safety: corpus() and make_requests() from the benchmark's main thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/envelope.hpp"

namespace idpath::bench {

inline constexpr std::string_view kPrefix = "88.100.1";
/// Requests per pool: more than any cache holds, so pool order does not flatter the figures.
inline constexpr std::size_t kPoolSize = std::size_t{1} << 16;
/// The "now" every request and answer is stamped with.
inline constexpr std::uint32_t kNow = 1'750'000'000;

enum class CorpusKind : std::uint8_t { Fixed, Realistic };

struct Corpus {
    std::shared_ptr<const table::Table> table;
    std::size_t size = 0;
    CorpusKind kind = CorpusKind::Fixed;
    double build_seconds = 0;

    /// Identifier i's handle (i < size).
    std::string handle(std::size_t i) const;
};

/// The table of `n` identifiers of `kind`, built on first use.
const Corpus& corpus(std::size_t n, CorpusKind kind = CorpusKind::Fixed);

/// "88.100.1/bench-00000042": identifier i of the Fixed corpus.
std::string handle_of(std::size_t i);

enum class RequestKind : std::uint8_t {
    Hit,         // an identifier of the table, uniform at random
    Miss,        // a name under the homed prefix that is not in the table (RC 100)
    Mixed,       // 90 % hits, 10 % misses
    IndexFilter, // a hit asking for indexes {1, 100}
    TypeFilter,  // a hit asking for types {"URL", "EMAIL"}
    Digest,      // a hit with RD: the answer carries SHA-256 of the request
};

/// kPoolSize requests of one kind, each a whole UDP payload, with their envelopes and message
/// spans split out for resolve(), and the normalised keys of the handles for Table::find().
struct RequestPool {
    std::vector<std::uint8_t> bytes; // all datagrams back to back
    std::vector<ByteSpan> datagrams;
    std::vector<wire::Envelope> envelopes;
    std::vector<ByteSpan> messages;
    std::vector<ByteSpan> bodies;
    std::vector<std::string> keys;
};

RequestPool make_requests(const Corpus& c, RequestKind kind, std::uint64_t seed = 1);

} // namespace idpath::bench
