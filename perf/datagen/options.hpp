#pragma once
/// idpath-datagen's command line (docs/idpath-datagen.md). Parsing is pure: main() prints the
/// error and usage and exits 2.
/// Thread-safety: pure functions.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/base/result.hpp"
#include "perf/datagen/generator.hpp"

namespace idpath::datagen {

/// Most identifiers one run writes: serials up to ten digits keep suffixes within their bound.
inline constexpr std::uint64_t kMaxCount = 10'000'000'000;
/// Largest --zipf-s: beyond it every suffix has the shortest length anyway.
inline constexpr double kMaxZipfS = 10;

struct Options {
    std::uint64_t count = 0;
    GeneratorConfig generator;
    std::string out;         // empty or "-": stdout
    std::string handles_out; // empty: no handle list
    bool help = false;
};

/// `args` without the program name. Errors name the option and what was wrong with it.
Result<Options, std::string> parse_options(std::span<const std::string_view> args);

std::string_view usage() noexcept;

} // namespace idpath::datagen
