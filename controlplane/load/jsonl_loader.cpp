#include "controlplane/load/jsonl_loader.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <unordered_set>
#include <utility>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "controlplane/load/identifier_line.hpp"
#include "dataplane/table/handle_key.hpp"

namespace idpath::load {

std::string LoadError::to_string() const
{
    if (file.empty())
        return reason;
    if (line == 0)
        return file.string() + ": " + reason;
    return file.string() + ":" + std::to_string(line) + ": " + reason;
}

namespace {

// Lines per parallel batch: large enough to keep every thread busy, small enough that the
// parsed-but-not-yet-added records stay a few tens of megabytes.
constexpr std::size_t kBatchLines = 16384;
constexpr std::size_t kGrainLines = 64;
constexpr std::string_view kPrefixHandlePrefix = "0.NA";

struct LineOutcome {
    enum class Kind : std::uint8_t { Skip, Record, Error } kind = Kind::Skip;
    IdentifierRecord record; // its values moved into `encoded`
    table::EncodedRecord encoded;
    std::size_t values = 0;
    std::string error;
};

bool skippable(std::string_view line)
{
    const auto first = line.find_first_not_of(" \t");
    return first == std::string_view::npos || line[first] == '#';
}

class ErrorList {
public:
    void add(const std::filesystem::path& file, std::size_t line, std::string reason)
    {
        if (errors_.size() < kMaxReportedErrors)
            errors_.push_back({file, line, std::move(reason)});
        else
            ++dropped_;
    }
    bool empty() const noexcept { return errors_.empty(); }
    std::vector<LoadError> take() &&
    {
        if (dropped_)
            errors_.push_back({{}, 0, "... " + std::to_string(dropped_) + " more errors"});
        return std::move(errors_);
    }

private:
    std::vector<LoadError> errors_;
    std::size_t dropped_ = 0;
};

class Loader {
public:
    Loader(const std::vector<std::string>& homed_prefixes, table::TableBuilder& builder,
           std::uint32_t default_timestamp)
        : builder_(builder), default_timestamp_(default_timestamp)
    {
        for (const auto& p : homed_prefixes) {
            homed_.insert(table::normalize(p));
            builder_.home(p);
        }
    }

    void load_file(const std::filesystem::path& file)
    {
        std::error_code ec;
        if (std::filesystem::is_directory(file, ec)) {
            errors_.add(file, 0, "is a directory, not a JSON-lines file");
            return;
        }
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            errors_.add(file, 0, std::string("cannot open: ") + std::strerror(errno));
            return;
        }
        std::vector<std::string> lines;
        std::size_t first_line = 1;
        std::string line;
        bool first = true;
        while (std::getline(in, line)) {
            if (first && line.starts_with("\xEF\xBB\xBF"))
                line.erase(0, 3); // a UTF-8 byte-order mark, as some Windows exports write
            first = false;
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            lines.push_back(std::move(line));
            if (lines.size() == kBatchLines) {
                run_batch(file, first_line, lines);
                first_line += lines.size();
                lines.clear();
            }
        }
        if (in.bad()) {
            errors_.add(file, first_line + lines.size(),
                        std::string("read error: ") + std::strerror(errno));
            return;
        }
        run_batch(file, first_line, lines);
    }

    Result<LoadReport, std::vector<LoadError>>
    finish(std::chrono::steady_clock::time_point start) &&
    {
        if (!errors_.empty())
            return Err{std::move(errors_).take()};
        report_.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return report_;
    }

private:
    void run_batch(const std::filesystem::path& file, std::size_t first_line,
                   const std::vector<std::string>& lines)
    {
        report_.lines += lines.size();
        outcomes_.clear();
        outcomes_.resize(lines.size());
        arena_.execute([&] {
            tbb::parallel_for(tbb::blocked_range<std::size_t>(0, lines.size(), kGrainLines),
                              [&](const tbb::blocked_range<std::size_t>& range) {
                                  for (std::size_t i = range.begin(); i != range.end(); ++i)
                                      parse_one(lines[i], outcomes_[i]);
                              });
        });
        // Sequential, in file order: duplicates and errors come out the same on every run.
        for (std::size_t i = 0; i < outcomes_.size(); ++i)
            add(file, first_line + i, outcomes_[i]);
    }

    void parse_one(const std::string& line, LineOutcome& out) const
    {
        if (skippable(line))
            return;
        if (!parse_identifier_line_into(line, default_timestamp_, out.record, out.error)) {
            out.kind = LineOutcome::Kind::Error;
            return;
        }
        // Encoding is most of a load's work: it runs here, in parallel, and the sequential pass
        // only copies the laid-out record in.
        out.values = out.record.values.size();
        auto encoded = table::encode_record(out.record.handle, std::move(out.record.values));
        if (!encoded) {
            // parse_identifier_line() checked every limit encode_record() has.
            out.kind = LineOutcome::Kind::Error;
            out.error = std::string(table::to_string(encoded.error()));
            return;
        }
        out.encoded = std::move(*encoded);
        out.kind = LineOutcome::Kind::Record;
    }

    void add(const std::filesystem::path& file, std::size_t line, LineOutcome& out)
    {
        if (out.kind == LineOutcome::Kind::Skip)
            return;
        if (out.kind == LineOutcome::Kind::Error) {
            errors_.add(file, line, std::move(out.error));
            return;
        }
        const IdentifierRecord& r = out.record;
        const std::string prefix =
            table::normalize(std::string_view(r.handle).substr(0, r.handle.find('/')));
        if (prefix != kPrefixHandlePrefix && !homed_.contains(prefix)) {
            errors_.add(file, line,
                        "handle \"" + r.handle + "\": prefix \"" +
                            r.handle.substr(0, r.handle.find('/')) +
                            "\" is not in data.homed_prefixes");
            return;
        }
        const std::size_t bytes = out.encoded.value_bytes;
        const std::size_t count = out.values;
        // parse_identifier_line() already rejected repeated indexes, so a refusal here means the
        // handle is already in the table.
        if (!builder_.add(std::move(out.encoded))) {
            errors_.add(file, line,
                        "duplicate handle \"" + r.handle +
                            "\" (handles are compared ignoring ASCII case)");
            return;
        }
        ++report_.identifiers;
        report_.values += count;
        report_.value_bytes += bytes;
    }

    table::TableBuilder& builder_;
    std::uint32_t default_timestamp_;
    std::unordered_set<std::string> homed_;
    tbb::task_arena arena_;
    std::vector<LineOutcome> outcomes_;
    ErrorList errors_;
    LoadReport report_;
};

} // namespace

Result<LoadReport, std::vector<LoadError>>
load_identifiers(const std::vector<std::filesystem::path>& files,
                 const std::vector<std::string>& homed_prefixes, table::TableBuilder& builder,
                 std::uint32_t default_timestamp)
{
    const auto start = std::chrono::steady_clock::now();
    Loader loader(homed_prefixes, builder, default_timestamp);
    for (const auto& file : files)
        loader.load_file(file);
    return std::move(loader).finish(start);
}

} // namespace idpath::load
