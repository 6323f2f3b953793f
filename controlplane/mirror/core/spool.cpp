#include "controlplane/mirror/core/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "controlplane/mirror/core/encode.hpp"

namespace idpath::mirror {

namespace {

// Numbers start high so push_front() has room below the first segment ever written.
constexpr std::uint64_t kFirstId = 1ull << 40;
constexpr std::size_t kIdDigits = 20;
constexpr std::string_view kSuffix = ".seg";

std::optional<std::uint64_t> segment_id(const std::string& name)
{
    if (name.size() != kIdDigits + kSuffix.size() || !name.ends_with(kSuffix))
        return std::nullopt;
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + kIdDigits, id);
    if (ec != std::errc{} || end != name.data() + kIdDigits)
        return std::nullopt;
    return id;
}

std::string errno_text(const std::string& what, const std::filesystem::path& p)
{
    return what + " " + p.string() + ": " + std::strerror(errno);
}

bool read_file(const std::filesystem::path& p, std::string& out)
{
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0;
    out.assign(ok ? static_cast<std::size_t>(st.st_size) : 0, '\0');
    std::size_t done = 0;
    while (ok && done < out.size()) {
        const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // shorter than fstat said: take what is there
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    ::close(fd);
    return ok;
}

ByteSpan bytes_of(const std::string& s, std::size_t from)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()) + from, s.size() - from};
}

void fsync_directory(const std::filesystem::path& dir)
{
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

} // namespace

std::uint64_t oldest_time_ns(const Batch& b) noexcept
{
    std::uint64_t t = 0;
    auto take = [&t](std::uint64_t x) {
        if (x != 0 && (t == 0 || x < t))
            t = x;
    };
    for (const auto& r : b.records)
        take(r.time_ns);
    for (const auto& e : b.events)
        take(e.time_ns);
    return t;
}

Spool::Spool(SpoolOptions options, Origin origin)
    : options_(std::move(options)), origin_(std::move(origin))
{
    if (options_.segment_bytes == 0)
        options_.segment_bytes =
            std::clamp<std::uint64_t>(options_.max_bytes / 32, 256u << 10, 8u << 20);
}

Spool::~Spool()
{
    close();
}

Result<std::unique_ptr<Spool>, std::string> Spool::open(const SpoolOptions& options,
                                                        const Origin& origin)
{
    std::unique_ptr<Spool> spool(new Spool(options, origin));
    const auto& dir = spool->options_.directory;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return Err("spool: cannot create " + dir.string() + ": " + ec.message());
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return Err(errno_text("spool: cannot write to", dir));
    std::uint64_t last = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const auto id = segment_id(entry.path().filename().string());
        if (!id || !entry.is_regular_file(ec))
            continue; // not ours: left alone
        std::string data;
        if (!read_file(entry.path(), data))
            return Err(errno_text("spool: cannot read", entry.path()));
        if (data.empty()) { // created just before a crash
            std::filesystem::remove(entry.path(), ec);
            continue;
        }
        // Count what decodes; a damaged tail is counted when the reader reaches it.
        Segment s;
        s.size = data.size();
        for (std::size_t at = 0; at < data.size();) {
            std::size_t used = 0;
            auto d = decode_binary(bytes_of(data, at), used);
            if (!d)
                break;
            if (s.batches == 0)
                s.first_time_ns = oldest_time_ns(d->batch);
            ++s.batches;
            s.records += d->batch.size();
            at += used;
        }
        spool->bytes_ += s.size;
        spool->batches_ += s.batches;
        spool->records_ += s.records;
        spool->segments_.emplace(*id, std::move(s));
        last = std::max(last, *id);
    }
    if (ec)
        return Err("spool: cannot list " + dir.string() + ": " + ec.message());
    spool->next_id_ = last >= kFirstId ? last + 1 : kFirstId;
    if (!spool->segments_.empty())
        spool->front_time_ns_ = spool->segments_.begin()->second.first_time_ns;
    return spool;
}

std::filesystem::path Spool::path_of(std::uint64_t id) const
{
    char name[kIdDigits + 8];
    std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(id));
    return options_.directory / name;
}

Result<void, SpoolError> Spool::write_segment_bytes(int fd, const std::string& bytes)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Err(SpoolError{SpoolError::Kind::Io,
                                  std::string("spool: write: ") + std::strerror(n < 0 ? errno : ENOSPC)});
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void, SpoolError> Spool::seal_tail()
{
    if (tail_fd_ < 0)
        return {};
    const bool synced = ::fsync(tail_fd_) == 0;
    const int err = errno;
    ::close(tail_fd_);
    tail_fd_ = -1;
    fsync_directory(options_.directory);
    if (!synced)
        return Err(SpoolError{SpoolError::Kind::Io, std::string("spool: fsync: ") + std::strerror(err)});
    return {};
}

Result<void, SpoolError> Spool::push_back(const Batch& batch)
{
    scratch_.clear();
    encode_binary(batch, origin_, scratch_);
    if (bytes_ + scratch_.size() > options_.max_bytes)
        return Err(SpoolError{SpoolError::Kind::Full, "spool: full"});
    auto tail = segments_.find(tail_id_);
    if (tail_fd_ < 0 || tail == segments_.end() || tail->second.size >= options_.segment_bytes) {
        (void)seal_tail(); // its batches were written; a failed fsync shows at the next write
        const std::uint64_t id = next_id_++;
        const auto path = path_of(id);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return Err(SpoolError{SpoolError::Kind::Io, errno_text("spool: cannot create", path)});
        tail_fd_ = fd;
        tail_id_ = id;
        tail = segments_.emplace(id, Segment{}).first;
    }
    Segment& s = tail->second;
    const bool was_empty = batches_ == 0;
    if (auto w = write_segment_bytes(tail_fd_, scratch_); !w) {
        // Take back a partial write so the segment stays decodable.
        if (::ftruncate(tail_fd_, static_cast<off_t>(s.size)) != 0) {
            (void)seal_tail();
        }
        return w;
    }
    s.size += scratch_.size();
    ++s.batches;
    s.records += batch.size();
    bytes_ += scratch_.size();
    ++batches_;
    records_ += batch.size();
    if (was_empty)
        front_time_ns_ = oldest_time_ns(batch);
    return {};
}

Result<void, SpoolError> Spool::push_front(const Batch& batch)
{
    if (segments_.empty())
        return push_back(batch);
    scratch_.clear();
    encode_binary(batch, origin_, scratch_);
    if (bytes_ + scratch_.size() > options_.max_bytes)
        return Err(SpoolError{SpoolError::Kind::Full, "spool: full"});
    const std::uint64_t first = segments_.begin()->first;
    if (first == 0)
        return Err(SpoolError{SpoolError::Kind::Io, "spool: no segment number left below the first"});
    const std::uint64_t id = first - 1;
    const auto path = path_of(id);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return Err(SpoolError{SpoolError::Kind::Io, errno_text("spool: cannot create", path)});
    auto w = write_segment_bytes(fd, scratch_);
    const bool synced = w && ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) {
        ::unlink(path.c_str());
        return w ? Err(SpoolError{SpoolError::Kind::Io, errno_text("spool: fsync", path)}) : w;
    }
    fsync_directory(options_.directory);
    Segment s;
    s.size = scratch_.size();
    s.batches = 1;
    s.records = batch.size();
    segments_.emplace(id, std::move(s));
    bytes_ += scratch_.size();
    ++batches_;
    records_ += batch.size();
    front_time_ns_ = oldest_time_ns(batch);
    return {};
}

void Spool::drop_segment(std::map<std::uint64_t, Segment>::iterator it)
{
    if (it->first == tail_id_ && tail_fd_ >= 0) {
        ::close(tail_fd_);
        tail_fd_ = -1;
    }
    ::unlink(path_of(it->first).c_str());
    bytes_ -= it->second.size;
    batches_ -= it->second.batches;
    records_ -= it->second.records;
    segments_.erase(it);
}

bool Spool::load(std::uint64_t id, Segment& s)
{
    if (!read_file(path_of(id), s.data))
        return false;
    s.loaded = true;
    s.offset = 0;
    return true;
}

const Batch* Spool::front()
{
    while (!segments_.empty()) {
        auto it = segments_.begin();
        Segment& s = it->second;
        if (s.next)
            return &*s.next;
        if (!s.loaded) {
            if (it->first == tail_id_)
                (void)seal_tail(); // the reader caught up with the writer
            if (!load(it->first, s)) {
                ++corrupt_segments_;
                corrupt_bytes_ += s.size;
                drop_segment(it);
                continue;
            }
        }
        if (s.offset >= s.data.size()) {
            drop_segment(it);
            continue;
        }
        std::size_t used = 0;
        auto d = decode_binary(bytes_of(s.data, s.offset), used);
        if (!d) {
            ++corrupt_segments_;
            corrupt_bytes_ += s.data.size() - s.offset;
            drop_segment(it);
            continue;
        }
        s.next = std::move(d->batch);
        s.next->replayed = true;
        front_time_ns_ = oldest_time_ns(*s.next);
        s.offset += used;
        return &*s.next;
    }
    return nullptr;
}

void Spool::pop()
{
    if (segments_.empty() || !segments_.begin()->second.next)
        return;
    auto it = segments_.begin();
    Segment& s = it->second;
    const std::size_t n = s.next->size();
    s.next.reset();
    if (s.batches > 0) {
        --s.batches;
        --batches_;
        s.records -= std::min<std::uint64_t>(s.records, n);
        records_ -= std::min<std::uint64_t>(records_, n);
    }
    if (s.offset >= s.data.size())
        drop_segment(it);
}

void Spool::close()
{
    (void)seal_tail();
}

} // namespace idpath::mirror
