#pragma once
/// The identifier set of idpath-datagen: identifier i (0 <= i < count) is a pure function of the
/// configuration and i, drawn from its own random streams, so any identifier (or just its handle,
/// for a request pool) can be produced on its own, in any order, on any thread.
/// Identifier i lives under prefixes[i % prefixes.size()] and its suffix ends in "-<i>", so
/// handles are unique for any count.
/// Thread-safety: const after construction; make()/append_handle() from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "perf/datagen/identifier.hpp"
#include "perf/datagen/suffix.hpp"

namespace idpath::datagen {

/// Suffix lengths' Zipf exponent: about a third of suffixes 9-10 octets ("SN-000123"), median 13,
/// 1 in 8 longer than 50 (docs/idpath-datagen.md).
inline constexpr double kDefaultZipfS = 1.1;
inline constexpr std::string_view kDefaultPrefix = "88.100.1";

struct GeneratorConfig {
    std::vector<std::string> prefixes{std::string(kDefaultPrefix)};
    std::uint64_t seed = 1;
    double zipf_s = kDefaultZipfS;
};

class Generator {
public:
    /// `config.prefixes` must not be empty (options.hpp checks what users give).
    explicit Generator(GeneratorConfig config);

    /// Identifier i, handle and values, into `out` (its buffers are reused).
    void make(std::uint64_t i, Identifier& out) const;
    /// Appends identifier i's handle to `out`: the same as make(i).handle, without the values.
    void append_handle(std::uint64_t i, std::string& out) const;
    std::string handle(std::uint64_t i) const;

    const GeneratorConfig& config() const noexcept { return config_; }

private:
    std::string_view prefix_of(std::uint64_t i) const noexcept;

    GeneratorConfig config_;
    SuffixMaker suffixes_;
};

} // namespace idpath::datagen
