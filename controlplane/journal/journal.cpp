#include "controlplane/journal/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "controlplane/io/durable_io.hpp"

namespace idpath::journal {

namespace {

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return "journal: " + std::string(what) + " " + path.string() + ": " + std::strerror(e);
}

/// The whole file; a journal is read at open and at replay only.
Result<std::vector<std::uint8_t>, std::string> read_whole(int fd, const std::filesystem::path& path)
{
    struct stat st{};
    if (::fstat(fd, &st) != 0)
        return Err(failed("stat", path, errno));
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < buf.size()) {
        const ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Err(failed("read", path, errno));
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    buf.resize(got);
    return buf;
}

} // namespace

Result<std::unique_ptr<Journal>, std::string> Journal::open(const std::filesystem::path& path)
{
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return Err(failed("open", path, errno));
    std::unique_ptr<Journal> j(new Journal(path, fd));
    auto bytes = read_whole(fd, path);
    if (!bytes)
        return Err(bytes.error());
    auto scan = scan_journal(*bytes, {});
    if (!scan)
        return Err(path.string() + ": " + scan.error());

    if (scan->header_missing) {
        // New, or torn while being created: start it afresh.
        const std::vector<std::uint8_t> head = file_header();
        if (::ftruncate(fd, 0) != 0 || !io::write_all(fd, head, 0) || ::fsync(fd) != 0)
            return Err(failed("create", path, errno));
        if (!io::sync_directory(path.parent_path()))
            return Err(failed("fsync directory of", path, errno));
        j->size_ = head.size();
    } else {
        j->size_ = scan->valid_bytes;
        if (scan->torn_bytes > 0 &&
            (::ftruncate(fd, static_cast<off_t>(scan->valid_bytes)) != 0 || ::fsync(fd) != 0))
            return Err(failed("truncate torn tail of", path, errno));
    }
    j->truncated_ = scan->torn_bytes;
    j->last_txn_ = scan->last_txn;
    j->entries_ = scan->entries;
    return j;
}

Journal::~Journal()
{
    if (fd_ >= 0)
        ::close(fd_);
}

Result<void, std::string> Journal::append(std::vector<Entry>& entries)
{
    if (entries.empty())
        return {};
    std::vector<std::uint8_t> bytes;
    std::uint64_t txn = last_txn_;
    for (Entry& e : entries) {
        e.txn_id = ++txn;
        encode_entry(e, bytes);
    }
    if (!io::write_all(fd_, bytes, size_) || ::fsync(fd_) != 0) {
        const int e = errno;
        // Not acknowledged: cut what may have reached the file, so the next append continues
        // from a whole entry (open() would take a torn tail away anyway).
        if (::ftruncate(fd_, static_cast<off_t>(size_)) == 0)
            (void)::fsync(fd_);
        return Err(failed("append to", path_, e));
    }
    size_ += bytes.size();
    last_txn_ = txn;
    entries_ += entries.size();
    return {};
}

Result<void, std::string> Journal::read_after(std::uint64_t txn, const std::function<void(const Entry&)>& f) const
{
    auto bytes = read_whole(fd_, path_);
    if (!bytes)
        return Err(bytes.error());
    // Only what this Journal wrote or checked: never a tail another writer might be adding.
    bytes->resize(std::min<std::size_t>(bytes->size(), size_));
    auto scan = scan_journal(*bytes, [&](const Entry& e) {
        if (e.txn_id > txn)
            f(e);
    });
    if (!scan)
        return Err(path_.string() + ": " + scan.error());
    return {};
}

} // namespace idpath::journal
