#pragma once
/// The query stream of one socket: which handle each query names (popularity by Zipf, a share
/// of generated misses) and the request datagram that carries it.
///
/// Deterministic: the same identifiers, configuration, seed and stream number give the same
/// sequence of queries, on any machine. A query is remembered as a small QuerySpec, from which
/// handle() rebuilds its text when the answer is checked.
/// Thread-safety: one generator per socket, used by the socket's thread. Hot path: next(),
/// handle() and encode() never allocate.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"
#include "perf/gun/identifiers.hpp"
#include "perf/gun/random.hpp"
#include "perf/gun/zipf.hpp"

namespace idpath::gun {

/// What one query asks, compactly.
struct QuerySpec {
    std::uint64_t serial = 0; // a miss: the number in its generated name
    std::uint32_t index = 0;  // a hit: the identifier; a miss: the prefix it goes under
    bool miss = false;
    bool operator==(const QuerySpec&) const = default;
};

/// The parts of a request that every query of a run shares.
struct QueryShape {
    std::vector<std::uint32_t> indexes; // index filter; empty: all
    std::vector<std::string> types;     // type filter; empty: all
    /// REC | CA | PO, as HANDLE.NET's resolver sends; RD added by --rd.
    std::uint32_t op_flags = wire::opflag::kRecursive | wire::opflag::kCacheCertify | wire::opflag::kPublicOnly;

    /// Longest handle whose request still fits one 512-octet datagram.
    std::size_t max_handle_length() const noexcept;
};

struct GeneratorConfig {
    double miss_ratio = 0; // share of queries for generated names that do not exist
    double zipf = 0;       // popularity exponent; 0: uniform
    std::uint64_t seed = 1;
};

/// "<prefix>/idpath-gun-miss-<16 hex digits>": the suffix a generated miss adds to its prefix.
inline constexpr std::string_view kMissInfix = "/idpath-gun-miss-";
inline constexpr std::size_t kMissSuffixLength = kMissInfix.size() + 16;

class QueryGenerator {
public:
    /// `ids` (non-empty) and `shape` must outlive the generator. `stream` tells the sockets of a
    /// run apart: each gets its own reproducible sequence and its own miss names.
    QueryGenerator(const IdentifierSet& ids, const QueryShape& shape, const GeneratorConfig& config,
                   std::uint64_t stream);

    QuerySpec next() noexcept;

    /// The handle `q` names, written into `buf` for a miss (kMaxHandleLength always suffices).
    std::string_view handle(const QuerySpec& q, std::span<char> buf) const noexcept;

    /// Writes the request datagram of `q` (envelope and message) to `out`. Returns its size, or 0
    /// when it does not fit.
    std::size_t encode(const QuerySpec& q, std::uint32_t request_id, std::uint32_t now_unix,
                       MutableByteSpan out) const noexcept;

private:
    const IdentifierSet& ids_;
    const QueryShape& shape_;
    std::vector<std::string_view> types_;
    ZipfSampler popularity_;
    Random rng_;
    double miss_ratio_;
    std::uint64_t stream_;
    std::uint64_t misses_ = 0;
};

} // namespace idpath::gun
