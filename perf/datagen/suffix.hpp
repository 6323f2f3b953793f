#pragma once
/// Handle suffixes: "SN-000123" for most identifiers, with a Zipf-distributed tail of longer,
/// path-like ones ("batch/2024/line-3/station-07/LOT-0004711") up to kMaxSuffixLength octets.
/// Every suffix ends in "-<serial>", the serial zero-padded to at least six digits, so distinct
/// serials give distinct suffixes whatever the path before them (also after ASCII uppercasing).
/// Thread-safety: const after construction; one Random per thread.

#include <cstddef>
#include <cstdint>
#include <string>

#include "perf/gun/random.hpp"
#include "perf/gun/zipf.hpp"

namespace idpath::datagen {

/// The shortest target length ("SN-000123"); longer serials make a suffix longer anyway.
inline constexpr std::size_t kMinSuffixLength = 9;
/// The longest target length. Serials of 14 digits or more exceed it: never in practice.
inline constexpr std::size_t kMaxSuffixLength = 100;

class SuffixMaker {
public:
    /// Target lengths are kMinSuffixLength + a Zipf rank over the lengths up to
    /// kMaxSuffixLength with exponent `zipf_s` (0: uniform lengths).
    explicit SuffixMaker(double zipf_s) noexcept;

    /// Appends the suffix of `serial` to `out`; `rng` picks the length and the path words.
    void append(std::uint64_t serial, gun::Random& rng, std::string& out) const;

private:
    gun::ZipfSampler lengths_;
};

} // namespace idpath::datagen
