#pragma once
/// A small seedable generator (xoshiro256**, seeded through SplitMix64). Its sequence is the same
/// on every platform and library, unlike std::uniform_*_distribution, so a seed reproduces a run's
/// query stream exactly.
/// Thread-safety: one instance per thread. Hot path: yes; never allocates.

#include <bit>
#include <cstdint>

namespace idpath::gun {

/// One SplitMix64 step: a good 64-bit mix of `state`, which it advances.
inline std::uint64_t splitmix64(std::uint64_t& state) noexcept
{
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class Random {
public:
    explicit Random(std::uint64_t seed) noexcept
    {
        for (auto& word : s_)
            word = splitmix64(seed);
    }

    std::uint64_t next() noexcept
    {
        const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = std::rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, 1), 53 bits.
    double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform in [0, n) for n > 0 (Lemire's multiply-shift; the bias is below 2^-64 * n).
    std::uint64_t below(std::uint64_t n) noexcept
    {
        return static_cast<std::uint64_t>((static_cast<Wide>(next()) * n) >> 64);
    }

private:
    // __extension__: a GNU type; -Wpedantic would flag the name otherwise.
    __extension__ typedef unsigned __int128 Wide;

    std::uint64_t s_[4];
};

} // namespace idpath::gun
