#include "perf/datagen/generator.hpp"

#include <utility>

#include "perf/datagen/values.hpp"
#include "perf/gun/random.hpp"

namespace idpath::datagen {
namespace {

// The handle and the values draw from separate streams, so append_handle() need not draw the
// values' numbers to reach the same handle make() writes.
enum class Stream : std::uint64_t { Handle = 1, Values = 2 };

gun::Random stream(std::uint64_t seed, std::uint64_t i, Stream which) noexcept
{
    std::uint64_t s = seed;
    std::uint64_t mixed = gun::splitmix64(s) ^ (i * 0x9e3779b97f4a7c15ull);
    mixed = gun::splitmix64(mixed) + static_cast<std::uint64_t>(which);
    return gun::Random(mixed);
}

} // namespace

Generator::Generator(GeneratorConfig config) : config_(std::move(config)), suffixes_(config_.zipf_s) {}

std::string_view Generator::prefix_of(std::uint64_t i) const noexcept
{
    return config_.prefixes[i % config_.prefixes.size()];
}

void Generator::append_handle(std::uint64_t i, std::string& out) const
{
    gun::Random rng = stream(config_.seed, i, Stream::Handle);
    out.append(prefix_of(i)).push_back('/');
    suffixes_.append(i, rng, out);
}

std::string Generator::handle(std::uint64_t i) const
{
    std::string h;
    append_handle(i, h);
    return h;
}

void Generator::make(std::uint64_t i, Identifier& out) const
{
    out.handle.clear();
    append_handle(i, out.handle);
    gun::Random rng = stream(config_.seed, i, Stream::Values);
    make_values(prefix_of(i), i, rng, out);
}

} // namespace idpath::datagen
