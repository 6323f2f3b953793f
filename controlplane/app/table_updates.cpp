#include "controlplane/app/table_updates.hpp"

#include <chrono>
#include <cstdio>
#include <vector>

namespace idpath::app {
namespace {

// Line numbers named per refusal reason in the reply; the rest are counted.
constexpr std::size_t kLinesNamed = 5;

} // namespace

std::string apply_update_file(table::Table& table, const load::UpdateFile& file, const std::function<void()>& grace,
                              UpdateTotals& totals, const UpdateHooks& hooks, bool* failed)
{
    std::string stopped;
    const auto begin = std::chrono::steady_clock::now();
    std::array<std::uint64_t, table::kUpdateOutcomes> counts{};
    std::array<std::vector<std::size_t>, table::kUpdateOutcomes> lines;
    for (std::size_t at = 0; at < file.updates.size(); at += kUpdateChunk) {
        table::Retired retired;
        const std::size_t end = std::min(file.updates.size(), at + kUpdateChunk);
        for (std::size_t i = at; i < end; ++i) {
            const auto o = static_cast<std::size_t>(table::apply_update(table, file.updates[i], retired));
            ++counts[o];
            if (o != 0 && lines[o].size() < kLinesNamed)
                lines[o].push_back(file.lines[i]);
            if (o == 0 && hooks.applied)
                hooks.applied(file.updates[i]);
        }
        if (hooks.chunk_done)
            stopped = hooks.chunk_done();
        grace();
        if (!stopped.empty()) {
            stopped = "stopped after line " + std::to_string(file.lines[end - 1]) + ": " + stopped;
            break;
        }
    }
    if (failed)
        *failed = !stopped.empty();
    ++totals.batches;
    std::uint64_t refused = 0;
    for (std::size_t o = 0; o < counts.size(); ++o) {
        totals.by_outcome[o] += counts[o];
        if (o != 0)
            refused += counts[o];
    }
    std::string text = "updated: " + std::to_string(counts[0]) + " applied, " + std::to_string(refused) + " refused";
    std::string reasons;
    for (std::size_t o = 1; o < counts.size(); ++o) {
        if (!counts[o])
            continue;
        reasons += (reasons.empty() ? "" : "; ") + std::string(table::to_string(static_cast<table::UpdateOutcome>(o))) +
                   ": " + std::to_string(counts[o]) + ", line";
        reasons += lines[o].size() > 1 ? "s" : "";
        for (const std::size_t l : lines[o])
            reasons += " " + std::to_string(l);
        if (counts[o] > lines[o].size())
            reasons += " ...";
    }
    if (!reasons.empty())
        text += " (" + reasons + ")";
    if (!stopped.empty())
        text += "; " + stopped;
    char took[48];
    std::snprintf(took, sizeof took, " in %.3f s",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    return text + took;
}

} // namespace idpath::app
