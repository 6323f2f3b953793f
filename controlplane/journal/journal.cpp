#include "controlplane/journal/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "controlplane/io/durable_io.hpp"

namespace idpath::journal {

namespace {

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return "journal: " + std::string(what) + " " + path.string() + ": " + std::strerror(e);
}

/// The whole file, for open()'s check of every entry.
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
    auto scan = scan_journal_at(*bytes, [&j](const Entry& e, std::uint64_t offset) { j->index_entry(e.txn_id, offset); });
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
    std::vector<IndexPoint> at; // each entry's offset, indexed once the write is durable
    at.reserve(entries.size());
    std::uint64_t txn = last_txn_;
    for (Entry& e : entries) {
        e.txn_id = ++txn;
        at.push_back({e.txn_id, size_ + bytes.size()});
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
    // Indexed only now: a failed append leaves the index as it was, like the file.
    for (const IndexPoint& p : at)
        index_entry(p.txn_id, p.offset);
    size_ += bytes.size();
    last_txn_ = txn;
    entries_ += entries.size();
    return {};
}

void Journal::index_entry(std::uint64_t txn_id, std::uint64_t offset)
{
    if (index_.empty() || txn_id - index_.back().txn_id >= kIndexEveryEntries ||
        offset - index_.back().offset >= kIndexEveryBytes)
        index_.push_back({txn_id, offset});
}

bool Journal::read_at(std::uint64_t offset, MutableByteSpan out) const
{
    while (!out.empty()) {
        const ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return false;
        }
        read_bytes_ += static_cast<std::uint64_t>(n);
        out = out.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

Result<void, std::string> Journal::read_until(std::uint64_t txn, const std::function<bool(const Entry&)>& f) const
{
    if (entries_ == 0 || txn >= last_txn_)
        return {}; // a mirror that is level costs nothing
    // The last index point at or before the first entry wanted (the first point is the first
    // entry, at or before any wanted one).
    const std::uint64_t want = std::max(txn + 1, index_.front().txn_id);
    const auto after = std::upper_bound(index_.begin(), index_.end(), want,
                                        [](std::uint64_t t, const IndexPoint& p) { return t < p.txn_id; });
    const IndexPoint& start = *std::prev(after);

    auto damaged = [this](std::uint64_t offset, const std::string& why) {
        return path_.string() + ": journal: offset " + std::to_string(offset) + ": " + why;
    };
    // buf[used..] holds the file's octets from `at` on; only up to size_, what this Journal
    // wrote or checked, never a tail another writer might be adding.
    std::vector<std::uint8_t> buf;
    std::size_t used = 0;
    std::uint64_t at = start.offset;
    std::uint64_t expect = start.txn_id;
    std::size_t chunk = kFirstReadBytes;
    Decoded d;
    std::string why;
    while (at < size_) {
        const ByteSpan rest = ByteSpan(buf).subspan(used);
        const DecodeStatus s = decode_entry(rest, d, why);
        if (s == DecodeStatus::Damaged)
            return Err(damaged(at, why));
        if (s == DecodeStatus::Short) {
            // Keep the part of the entry already read, and read a chunk more, or the whole
            // entry when it is larger (decode_entry checked its length before saying Short).
            std::size_t need = chunk;
            chunk = std::min(2 * chunk, kReadChunkBytes);
            if (rest.size() >= kEntryHeaderBytes)
                need = std::max<std::size_t>(need, kEntryHeaderBytes + load_be32(rest.data()));
            buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(used));
            used = 0;
            const std::uint64_t held = buf.size();
            const std::size_t fill = static_cast<std::size_t>(std::min<std::uint64_t>(need, size_ - at));
            if (fill <= held)
                return Err(damaged(at, "entry runs past the end of the journal"));
            buf.resize(fill);
            if (!read_at(at + held, MutableByteSpan(buf).subspan(held)))
                return Err(errno != 0 ? failed("read", path_, errno)
                                      : damaged(at + held, "journal shorter than it was written"));
            continue;
        }
        if (d.entry.txn_id != expect)
            return Err(damaged(at, "txn id " + std::to_string(d.entry.txn_id) + " where " + std::to_string(expect) +
                                       " was expected"));
        ++expect;
        used += d.bytes;
        at += d.bytes;
        if (d.entry.txn_id > txn && !f(d.entry))
            return {};
    }
    return {};
}

} // namespace idpath::journal
