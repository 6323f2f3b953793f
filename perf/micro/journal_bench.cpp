// Google Benchmark of the change journal (controlplane/journal). Journal::read_after() is what an
// upstream runs for each mirror's pull (OC_RETRIEVE_TXN_LOG) with the daemon's mutex held. A
// journal of 1 M small entries is written once per layout (one file, or sealed into 8 MiB
// segments); each call reads 100 entries after a txn: the last 100, the first 100, or none (a
// level mirror's pull). BM_JournalReadAfterWholeFile is the baseline: the algorithm read_after()
// had before its index (read the whole file, scan every entry, no early stop), written out here.
// BM_JournalOpen is what a start costs (every file read and checked), one file against segments.
// BM_JournalAppend is one 100-entry append with its fsync, with and without a seal after it (a
// seal: fsync, rename, directory fsync, a new active file created and renamed into place).
// Counters: items_per_second (entries handed over), read_B (file octets read per call). The files
// live in $IDPATH_JOURNAL_DIR (default the temp directory; fsync costs depend on it), deleted at
// exit.

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/journal/journal.hpp"

namespace idpath::bench {
namespace {

namespace fs = std::filesystem;
using journal::Entry;
using journal::Journal;

constexpr std::uint64_t kEntries = 1'000'000;
constexpr std::size_t kTake = 100;
/// The segmented layout's segment size.
constexpr std::uint64_t kSegmentBytes = 8u << 20;

fs::path bench_dir()
{
    const char* dir = std::getenv("IDPATH_JOURNAL_DIR");
    const fs::path base = dir ? fs::path(dir) : fs::temp_directory_path();
    return base / ("idpath-journal-bench-" + std::to_string(::getpid()));
}

journal::JournalOptions segmented(std::uint64_t segment_bytes)
{
    journal::JournalOptions o;
    o.segment_bytes = segment_bytes;
    return o;
}

Entry make_entry(std::uint64_t i)
{
    Entry e;
    e.date_ms = 1'750'000'000'000 + static_cast<std::int64_t>(i);
    e.action = journal::Action::Update;
    e.handle = "88.100.1/item-" + std::to_string(i);
    e.value_count = 1;
    e.values.assign(24, static_cast<std::uint8_t>(i));
    return e;
}

std::unique_ptr<Journal> open_or_exit(const fs::path& path, journal::JournalOptions options = {})
{
    auto j = Journal::open(path, std::move(options));
    if (!j) {
        std::fprintf(stderr, "%s\n", j.error().c_str());
        std::exit(1);
    }
    return std::move(*j);
}

/// A journal of kEntries, one per layout (segment size, 0: one file), written on first use and
/// removed at exit.
class SharedJournal {
public:
    static SharedJournal& get(std::uint64_t segment_bytes = 0)
    {
        static std::map<std::uint64_t, std::unique_ptr<SharedJournal>> layouts;
        auto& s = layouts[segment_bytes];
        if (!s)
            s.reset(new SharedJournal(segment_bytes));
        return *s;
    }
    std::uint64_t segment_bytes() const { return segment_bytes_; }
    const Journal& journal() const { return *journal_; }
    const fs::path& path() const { return path_; }

    ~SharedJournal()
    {
        journal_.reset();
        std::error_code ec;
        fs::remove_all(path_.parent_path(), ec);
        fs::remove(path_.parent_path().parent_path(), ec); // once the last layout is gone
    }

private:
    explicit SharedJournal(std::uint64_t segment_bytes) : segment_bytes_(segment_bytes)
    {
        path_ = bench_dir() / ("seg-" + std::to_string(segment_bytes)) / "changes.journal";
        fs::create_directories(path_.parent_path());
        journal_ = open_or_exit(path_, segmented(segment_bytes));
        for (std::uint64_t i = 0; i < kEntries;) {
            std::vector<Entry> batch;
            for (; batch.size() < 65536 && i < kEntries; ++i)
                batch.push_back(make_entry(i));
            if (auto a = journal_->append(batch); !a) {
                std::fprintf(stderr, "%s\n", a.error().c_str());
                std::exit(1);
            }
        }
    }

    std::uint64_t segment_bytes_ = 0;
    fs::path path_;
    std::unique_ptr<Journal> journal_;
};

/// The starting txn of each case: 0 the first 100, 1 the last 100, 2 none (level).
std::uint64_t after_of(std::int64_t which)
{
    return which == 0 ? 0 : which == 1 ? kEntries - kTake : kEntries;
}

/// read_after() as it was: the whole file read (fstat, pread), every entry decoded, those after
/// `txn` kept.
std::size_t old_read_after(int fd, std::uint64_t txn, std::vector<Entry>& out)
{
    struct stat st{};
    if (::fstat(fd, &st) != 0)
        std::abort();
    std::vector<std::uint8_t> file(static_cast<std::size_t>(st.st_size));
    for (std::size_t got = 0; got < file.size();) {
        const ssize_t n = ::pread(fd, file.data() + got, file.size() - got, static_cast<off_t>(got));
        if (n <= 0)
            std::abort();
        got += static_cast<std::size_t>(n);
    }
    auto scan = journal::scan_journal(file, [&](const Entry& e) {
        if (e.txn_id > txn && out.size() < kTake)
            out.push_back(e);
    });
    if (!scan)
        std::abort();
    return file.size();
}

void BM_JournalReadAfter(benchmark::State& state)
{
    const Journal& j = SharedJournal::get(static_cast<std::uint64_t>(state.range(1))).journal();
    const std::uint64_t after = after_of(state.range(0));
    const std::uint64_t read_before = j.read_bytes();
    std::size_t items = 0;
    for (auto _ : state) {
        std::vector<Entry> batch;
        auto r = j.read_after(after, [&](const Entry& e) {
            batch.push_back(e);
            return batch.size() < kTake;
        });
        if (!r)
            state.SkipWithError(r.error().c_str());
        items += batch.size();
        benchmark::DoNotOptimize(batch.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(items));
    state.counters["read_B"] = benchmark::Counter(static_cast<double>(j.read_bytes() - read_before),
                                                  benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_JournalReadAfter)
    ->ArgNames({"first0_last1_none2", "segment_B"})
    ->ArgsProduct({{0, 1, 2}, {0, kSegmentBytes}})
    ->Unit(benchmark::kMicrosecond);

void BM_JournalReadAfterWholeFile(benchmark::State& state)
{
    const int fd = ::open(SharedJournal::get().path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        std::abort();
    const std::uint64_t after = after_of(state.range(0));
    std::size_t items = 0;
    std::uint64_t read = 0;
    for (auto _ : state) {
        std::vector<Entry> batch;
        read += old_read_after(fd, after, batch);
        items += batch.size();
        benchmark::DoNotOptimize(batch.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(items));
    ::close(fd);
    state.counters["read_B"] = benchmark::Counter(static_cast<double>(read), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_JournalReadAfterWholeFile)
    ->ArgName("first0_last1_none2")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond);

void BM_JournalOpen(benchmark::State& state)
{
    const SharedJournal& s = SharedJournal::get(static_cast<std::uint64_t>(state.range(0)));
    std::uint64_t bytes = 0;
    std::size_t segments = 0;
    for (auto _ : state) {
        auto j = open_or_exit(s.path(), segmented(s.segment_bytes()));
        bytes = j->bytes();
        segments = j->segments();
        benchmark::DoNotOptimize(j->last_txn());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEntries));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["files"] = static_cast<double>(segments);
}
BENCHMARK(BM_JournalOpen)->ArgName("segment_B")->Arg(0)->Arg(kSegmentBytes)->Unit(benchmark::kMillisecond);

void BM_JournalAppend(benchmark::State& state)
{
    const bool seal = state.range(0) != 0;
    const fs::path path = bench_dir() / (seal ? "append-seal" : "append") / "changes.journal";
    fs::create_directories(path.parent_path());
    // 1 octet: every append passes the size, so every append is followed by a seal.
    auto j = open_or_exit(path, segmented(seal ? 1 : 0));
    std::uint64_t i = 0;
    for (auto _ : state) {
        std::vector<Entry> batch;
        for (std::size_t k = 0; k < kTake; ++k)
            batch.push_back(make_entry(i++));
        if (auto a = j->append(batch); !a)
            state.SkipWithError(a.error().c_str());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(i));
    state.counters["files"] = static_cast<double>(j->segments());
    j.reset();
    std::error_code ec;
    fs::remove_all(path.parent_path(), ec);
    fs::remove(path.parent_path().parent_path(), ec); // when no layout is left either
}
BENCHMARK(BM_JournalAppend)->ArgName("seal")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace idpath::bench

BENCHMARK_MAIN();
