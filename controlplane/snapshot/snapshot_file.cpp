#include "controlplane/snapshot/snapshot_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <new>
#include <optional>
#include <vector>

#include "controlplane/io/durable_io.hpp"
#include "controlplane/io/file_error.hpp"
#include "controlplane/io/mapped_file.hpp"

namespace idpath::snapshot {

namespace fmt = table::snapshot;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return "snapshot: " + io::file_error(what, path, e);
}

/// The temporary file, removed unless committed: every early return cleans up.
class TempFile {
public:
    explicit TempFile(std::filesystem::path path) : path_(std::move(path)) {}
    ~TempFile()
    {
        if (fd_ >= 0)
            ::close(fd_);
        if (created_)
            ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    bool create()
    {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        created_ = fd_ >= 0;
        return created_;
    }
    bool close()
    {
        const int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0;
    }
    void committed() noexcept { created_ = false; }
    int fd() const noexcept { return fd_; }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    bool created_ = false;
};

std::vector<std::uint64_t> checksums(tbb::task_arena& arena, const table::Table& t)
{
    std::vector<std::uint64_t> sums(t.shard_count());
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, sums.size(), [&](std::size_t s) {
            const table::ShardImage img = t.shard_image(s);
            sums[s] = fmt::shard_checksum(img.buckets, img.arena);
        });
    });
    return sums;
}

/// Maps a shard's file pages in one call (MADV_POPULATE_READ, Linux 5.14) rather than one
/// fault per page during the copy; the loading threads do it for their own shards, in parallel.
/// Where the kernel lacks it the copy faults the pages in: slower, same result.
void prefault(ByteSpan file, const fmt::ShardEntry& d)
{
#ifdef MADV_POPULATE_READ
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t from = d.buckets_offset / page * page;
    const std::uint64_t to = d.arena_offset + d.arena_bytes;
    ::madvise(const_cast<std::uint8_t*>(file.data() + from), to - from, MADV_POPULATE_READ);
#else
    (void)file;
    (void)d;
#endif
}

} // namespace

Result<SaveReport, std::string> save_snapshot(const table::Table& table, const std::filesystem::path& path,
                                              const fmt::SnapshotMeta& meta)
{
    const auto t0 = Clock::now();
    tbb::task_arena arena;
    const fmt::SnapshotPlan plan = fmt::plan_snapshot(table, meta, checksums(arena, table));

    TempFile tmp(path.string() + ".tmp");
    if (!tmp.create())
        return Err(failed("create", tmp.path(), errno));
    // Sized first: the padding between pieces reads as zeros, and a full disk shows here.
    if (::ftruncate(tmp.fd(), static_cast<off_t>(plan.file_bytes)) != 0)
        return Err(failed("size", tmp.path(), errno));
    if (!io::write_all(tmp.fd(), plan.head, 0))
        return Err(failed("write", tmp.path(), errno));
    for (const fmt::Piece& p : plan.pieces)
        if (!io::write_all(tmp.fd(), p.bytes, p.offset))
            return Err(failed("write", tmp.path(), errno));
    if (::fsync(tmp.fd()) != 0)
        return Err(failed("fsync", tmp.path(), errno));
    if (!tmp.close())
        return Err(failed("close", tmp.path(), errno));
    if (::rename(tmp.path().c_str(), path.c_str()) != 0)
        return Err(failed("rename to", path, errno));
    tmp.committed();
    if (!io::sync_directory(path.parent_path()))
        return Err(failed("fsync directory of", path, errno));

    SaveReport r;
    r.seconds = since(t0);
    r.bytes = plan.file_bytes;
    for (std::size_t s = 0; s < table.shard_count(); ++s)
        r.records += table.shard_image(s).records;
    return r;
}

Result<LoadReport, std::string> load_snapshot_file(const std::filesystem::path& path)
{
    const auto t0 = Clock::now();
    // Pages are read in per shard by the loading threads (prefault below), not by one mmap().
    auto mapped = io::MappedFile::open(path, /*populate=*/false);
    if (!mapped)
        return Err("snapshot: " + mapped.error());
    const ByteSpan file = mapped->bytes();
    const auto prefix = path.string() + ": ";
    auto head = fmt::read_snapshot_head(file);
    if (!head)
        return Err(prefix + head.error());
    const fmt::SnapshotInfo& info = *head;

    std::unique_ptr<table::TableAssembler> assembler;
    try {
        assembler = fmt::make_assembler(info);
    } catch (const std::bad_alloc&) {
        return Err(prefix + "snapshot: no memory for a table of " + std::to_string(info.data_bytes) + " octets");
    }
    // The first failing shard by index, so the error does not depend on thread timing.
    std::mutex mu;
    std::optional<std::pair<std::size_t, std::string>> first_error;
    tbb::task_arena arena;
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, info.shards.size(), [&](std::size_t s) {
            prefault(file, info.shards[s]);
            auto r = fmt::load_shard(file, info, s, *assembler);
            if (!r) {
                const std::lock_guard lock(mu);
                if (!first_error || s < first_error->first)
                    first_error.emplace(s, r.error());
            }
        });
    });
    if (first_error)
        return Err(prefix + first_error->second);

    LoadReport r;
    r.table = std::move(*assembler).finish();
    *mapped = io::MappedFile{}; // unmapping a large file takes time too: counted
    r.seconds = since(t0);
    r.bytes = info.file_bytes;
    r.records = info.records;
    r.created_unix = info.created_unix;
    r.source = info.source;
    return r;
}

} // namespace idpath::snapshot
