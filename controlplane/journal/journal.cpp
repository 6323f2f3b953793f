#include "controlplane/journal/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>

#include "controlplane/io/durable_io.hpp"
#include "controlplane/io/file_error.hpp"
#include "controlplane/io/mapped_file.hpp"
#include "controlplane/journal/journal_segments.hpp"
#include "controlplane/log/log.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::journal {

namespace {

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return "journal: " + io::file_error(what, path, e);
}

} // namespace

Result<std::unique_ptr<Journal>, std::string> Journal::open(const std::filesystem::path& path, JournalOptions options)
{
    std::unique_ptr<Journal> j(new Journal(path, std::move(options)));
    // A new active file a crash left before its rename holds no entry (create_active()).
    if (::unlink(creating_path(path).c_str()) != 0 && errno != ENOENT)
        return Err(failed("remove", creating_path(path), errno));
    auto sealed = list_segments(path);
    if (!sealed)
        return Err(sealed.error());
    for (const SegmentFile& s : *sealed)
        if (auto r = j->open_sealed(s.path, s.first_txn); !r)
            return Err(r.error());
    if (auto r = j->open_active(j->files_.empty() ? 1 : j->files_.back().last_txn + 1); !r)
        return Err(r.error());
    std::vector<SegmentSpan> spans;
    for (const File& f : j->files_)
        spans.push_back({f.path, f.first_txn, f.last_txn});
    if (std::string gap = check_consecutive(spans); !gap.empty())
        return Err(gap);
    // A crash between an append and its seal left the active file over the size.
    j->seal_if_due();
    return j;
}

Result<void, std::string> Journal::open_sealed(const std::filesystem::path& path, std::uint64_t named_txn)
{
    // Mapped, not read into the heap: a start checks files of any size in the page cache's
    // memory, which the kernel can take back.
    auto mapped = io::MappedFile::open(path, false);
    if (!mapped)
        return Err("journal: " + mapped.error());
    File f;
    f.path = path;
    auto scan = scan_journal_at(mapped->bytes(), [&f](const Entry& e, std::uint64_t offset) { add_entry(f, e, offset); });
    if (!scan)
        return Err(path.string() + ": " + scan.error());
    // Sealed only after an fsynced append: nothing a crash explains can be missing from it.
    std::string bad;
    if (scan->header_missing || scan->torn_bytes > 0)
        bad = std::to_string(scan->torn_bytes) + " octets at its end are not whole entries";
    else if (scan->entries == 0)
        bad = "holds no entry";
    else if (scan->first_txn != named_txn)
        bad = "starts at txn " + std::to_string(scan->first_txn) + ", not at the txn its name says";
    if (!bad.empty())
        return Err(path.string() + ": journal: sealed segment " + bad + "; restore it from a copy");
    f.first_txn = scan->first_txn;
    f.last_txn = scan->last_txn;
    f.size = scan->valid_bytes;
    files_.push_back(std::move(f));
    return {};
}

Result<void, std::string> Journal::open_active(std::uint64_t next_txn)
{
    File f;
    f.path = path_;
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0 && errno != ENOENT)
        return Err(failed("open", path_, errno));
    ScanResult scan;
    if (fd_ >= 0) {
        auto mapped = io::MappedFile::open(path_, false);
        if (!mapped)
            return Err("journal: " + mapped.error());
        auto scanned = scan_journal_at(mapped->bytes(), [&f](const Entry& e, std::uint64_t offset) { add_entry(f, e, offset); });
        if (!scanned)
            return Err(path_.string() + ": " + scanned.error());
        scan = *scanned;
    }
    if (fd_ < 0 || scan.header_missing) {
        // New, torn while being created by an older idpathd, or missing after a crash while
        // sealing: start it afresh, after the sealed segments.
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
        auto fd = create_active(path_, next_txn);
        if (!fd)
            return Err(fd.error());
        fd_ = *fd;
        f.first_txn = next_txn;
        f.size = kFileHeaderBytes;
    } else {
        f.first_txn = scan.start_txn != 0 ? scan.start_txn : scan.entries > 0 ? scan.first_txn : next_txn;
        f.size = scan.valid_bytes;
        if (scan.torn_bytes > 0 && (::ftruncate(fd_, static_cast<off_t>(scan.valid_bytes)) != 0 || ::fsync(fd_) != 0))
            return Err(failed("truncate torn tail of", path_, errno));
    }
    f.last_txn = scan.entries > 0 ? scan.last_txn : f.first_txn - 1;
    truncated_ = scan.torn_bytes;
    files_.push_back(std::move(f));
    return {};
}

Journal::~Journal()
{
    if (fd_ >= 0)
        ::close(fd_);
}

std::uint64_t Journal::bytes() const noexcept
{
    std::uint64_t n = 0;
    for (const File& f : files_)
        n += f.size;
    return n;
}

Result<void, std::string> Journal::append(std::vector<Entry>& entries)
{
    if (entries.empty())
        return {};
    File& active = files_.back();
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint64_t> at; // each entry's offset, indexed once the write is durable
    at.reserve(entries.size());
    std::uint64_t txn = active.last_txn;
    for (Entry& e : entries) {
        e.txn_id = ++txn;
        at.push_back(active.size + bytes.size());
        encode_entry(e, bytes);
    }
    if (!io::write_all(fd_, bytes, active.size) || ::fsync(fd_) != 0) {
        const int e = errno;
        // Not acknowledged: cut what may have reached the file, so the next append continues
        // from a whole entry (open() would take a torn tail away anyway).
        if (::ftruncate(fd_, static_cast<off_t>(active.size)) == 0)
            (void)::fsync(fd_);
        return Err(failed("append to", active.path, e));
    }
    // Indexed only now: a failed append leaves the index as it was, like the file.
    for (std::size_t i = 0; i < entries.size(); ++i)
        add_entry(active, entries[i], at[i]);
    active.size += bytes.size();
    seal_if_due();
    return {};
}

void Journal::add_entry(File& file, const Entry& e, std::uint64_t offset)
{
    if (file.index.empty() || e.txn_id - file.index.back().txn_id >= kIndexEveryEntries ||
        offset - file.index.back().offset >= kIndexEveryBytes)
        file.index.push_back({e.txn_id, offset});
    file.newest_ms = std::max(file.newest_ms, e.date_ms);
    file.last_txn = e.txn_id;
}

void Journal::seal_if_due()
{
    const File& active = files_.back();
    if (options_.segment_bytes == 0 || active.size < options_.segment_bytes || active.empty())
        return;
    if (auto r = seal(); !r) {
        ++seal_failures_;
        log::warning(r.error(), "; appending to ", files_.back().path.string(), " until a seal succeeds");
        return;
    }
    const File& sealed = files_[files_.size() - 2];
    log::info("journal: sealed ", sealed.path.string(), " (txns ", sealed.first_txn, "..", sealed.last_txn, ", ",
              sealed.size, " octets)");
    enforce_retention();
}

Result<void, std::string> Journal::seal()
{
    File& active = files_.back();
    const std::filesystem::path sealed = segment_path(path_, active.first_txn);
    if (::fsync(fd_) != 0)
        return Err(failed("fsync", active.path, errno));
    // Already renamed when an earlier attempt failed after the rename.
    if (active.path != sealed) {
        if (::access(sealed.c_str(), F_OK) == 0)
            return Err("journal: cannot seal " + path_.string() + ": " + sealed.string() + " exists already");
        if (::rename(path_.c_str(), sealed.c_str()) != 0)
            return Err(failed("rename to", sealed, errno));
        active.path = sealed;
    }
    // The rename is durable before the new active file exists: after a crash open() never
    // finds a new active file beside an unrenamed old one.
    if (!io::sync_directory(path_.parent_path()))
        return Err(failed("fsync directory of", sealed, errno));
    auto fd = create_active(path_, active.last_txn + 1);
    if (!fd)
        return Err(fd.error());
    ::close(fd_);
    fd_ = *fd;
    File next;
    next.path = path_;
    next.first_txn = active.last_txn + 1;
    next.last_txn = active.last_txn;
    next.size = kFileHeaderBytes;
    files_.push_back(std::move(next)); // `active` dangles from here
    return {};
}

std::int64_t Journal::now_ms() const
{
    if (options_.now_ms)
        return options_.now_ms();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void Journal::set_snapshot_base(std::uint64_t txn)
{
    snapshot_base_ = txn;
    enforce_retention();
}

std::size_t Journal::enforce_retention()
{
    if (options_.retain_ms <= 0)
        return 0;
    const std::int64_t cutoff = now_ms() - options_.retain_ms;
    std::size_t gone = 0;
    // Oldest first, stopping at the first that must stay: what is left stays consecutive.
    while (files_.size() > 1) {
        const File& f = files_.front();
        if (f.last_txn > snapshot_base_ || f.newest_ms >= cutoff)
            break;
        if (::unlink(f.path.c_str()) != 0) {
            log::warning(failed("delete", f.path, errno));
            break;
        }
        log::info("journal: deleted ", f.path.string(), " (txns ", f.first_txn, "..", f.last_txn,
                  "): past data.journal_retain_days and held by the snapshot at txn ", snapshot_base_);
        files_.erase(files_.begin());
        ++deleted_;
        ++gone;
    }
    if (gone > 0 && !io::sync_directory(path_.parent_path()))
        log::warning(failed("fsync directory of", path_, errno));
    return gone;
}

bool Journal::read_at(int fd, std::uint64_t offset, MutableByteSpan out) const
{
    while (!out.empty()) {
        const ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
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
    if (txn >= last_txn())
        return {}; // a mirror that is level costs nothing
    // The file holding txn + 1 (the first file when it is older than all): few files, and a
    // mirror's usual pull is in the newest.
    std::size_t i = files_.size() - 1;
    while (i > 0 && files_[i].first_txn > txn + 1)
        --i;
    for (; i < files_.size(); ++i) {
        const File& file = files_[i];
        if (file.empty())
            continue;
        // Sealed segments are opened per read: a long retention keeps many, and a pull rarely
        // reaches back into them.
        const socket::UniqueFd sealed(i + 1 < files_.size() ? ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC) : -1);
        if (i + 1 < files_.size() && !sealed.valid())
            return Err(failed("open", file.path, errno));
        auto more = read_file(file, i + 1 < files_.size() ? sealed.get() : fd_, txn, f);
        if (!more)
            return Err(more.error());
        if (!*more)
            return {};
    }
    return {};
}

Result<bool, std::string> Journal::read_file(const File& file, int fd, std::uint64_t txn,
                                             const std::function<bool(const Entry&)>& f) const
{
    // The last index point at or before the first entry wanted (the first point is the first
    // entry, at or before any wanted one).
    const std::uint64_t want = std::max(txn + 1, file.index.front().txn_id);
    const auto after = std::upper_bound(file.index.begin(), file.index.end(), want,
                                        [](std::uint64_t t, const IndexPoint& p) { return t < p.txn_id; });
    const IndexPoint& start = *std::prev(after);

    auto damaged = [&file](std::uint64_t offset, const std::string& why) {
        return file.path.string() + ": journal: offset " + std::to_string(offset) + ": " + why;
    };
    // buf[used..] holds the file's octets from `at` on; only up to file.size, what this Journal
    // wrote or checked, never a tail another writer might be adding.
    const std::uint64_t size = file.size;
    std::vector<std::uint8_t> buf;
    std::size_t used = 0;
    std::uint64_t at = start.offset;
    std::uint64_t expect = start.txn_id;
    std::size_t chunk = kFirstReadBytes;
    Decoded d;
    std::string why;
    while (at < size) {
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
            const std::size_t fill = static_cast<std::size_t>(std::min<std::uint64_t>(need, size - at));
            if (fill <= held)
                return Err(damaged(at, "entry runs past the end of the journal"));
            buf.resize(fill);
            if (!read_at(fd, at + held, MutableByteSpan(buf).subspan(held)))
                return Err(errno != 0 ? failed("read", file.path, errno)
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
            return false;
    }
    return true;
}

} // namespace idpath::journal
