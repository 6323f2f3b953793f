#pragma once
/// Writes a generated data set: identifiers 0..count-1 as JSON lines and, optionally, their
/// handles one per line. Worker threads build chunks of consecutive identifiers in their own
/// buffers; the calling thread writes the chunks in order, so the output is the same bytes
/// whatever the thread count and timing.
/// Thread-safety: one call per stream at a time.

#include <cstdint>
#include <cstdio>
#include <string>

#include "dataplane/base/result.hpp"
#include "perf/datagen/generator.hpp"
#include "perf/datagen/options.hpp"

namespace idpath::datagen {

struct WriteSummary {
    std::uint64_t identifiers = 0;
    std::uint64_t values = 0;
    std::uint64_t bytes = 0;        // of JSON lines
    std::uint64_t handle_bytes = 0; // of the handle list (0 without one)
    double seconds = 0;
};

/// `handles` may be null. `threads` generators (0: one per CPU, at most kMaxThreads) work while
/// this thread writes. Errors: a failed write, naming the stream ("out", "handles-out").
Result<WriteSummary, std::string> write_dataset(const Generator& gen, std::uint64_t count, std::FILE* out,
                                                std::FILE* handles, unsigned threads = 0);

inline constexpr unsigned kMaxThreads = 8;

/// Opens the files `options` names (stdout for an empty --out or "-"), writes, closes. Errors
/// name the file.
Result<WriteSummary, std::string> write_dataset(const Options& options);

} // namespace idpath::datagen
