// idpath-datagen: writes a realistic, deterministic identifier set as JSON lines for idpathd
// (docs/idpath-datagen.md). Exit status 0 success, 1 I/O error, 2 usage.

#include <cstdio>
#include <string_view>
#include <vector>

#include "perf/datagen/options.hpp"
#include "perf/datagen/writer.hpp"

int main(int argc, char** argv)
{
    using namespace idpath::datagen;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    const auto options = parse_options(args);
    if (!options) {
        std::fprintf(stderr, "idpath-datagen: %s\n%.*s", options.error().c_str(),
                     static_cast<int>(usage().size()), usage().data());
        return 2;
    }
    if (options->help) {
        std::fwrite(usage().data(), 1, usage().size(), stdout);
        return 0;
    }
    const auto summary = write_dataset(*options);
    if (!summary) {
        std::fprintf(stderr, "idpath-datagen: %s\n", summary.error().c_str());
        return 1;
    }
    const double mb = static_cast<double>(summary->bytes) / 1e6;
    std::fprintf(stderr,
                 "idpath-datagen: %llu identifiers, %llu values, %.1f MB (%.0f octets per line), "
                 "%.2f s (%.2f M identifiers/s)\n",
                 static_cast<unsigned long long>(summary->identifiers),
                 static_cast<unsigned long long>(summary->values), mb,
                 static_cast<double>(summary->bytes) / static_cast<double>(summary->identifiers),
                 summary->seconds,
                 static_cast<double>(summary->identifiers) / summary->seconds / 1e6);
    return 0;
}
