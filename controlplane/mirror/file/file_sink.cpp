#include "controlplane/mirror/file/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <vector>
#include <system_error>

#include <zstd.h>

#include "controlplane/io/file_error.hpp"
#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/file/chain.hpp"
#include "controlplane/mirror/file/log_reader.hpp"
#include "controlplane/mirror/file/rotated_files.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::mirror {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

std::string errno_text(const std::string& what, const fs::path& path, int e)
{
    return io::file_error(what, path, e);
}

/// Writes both parts whole (one writev(2) unless the kernel takes less).
bool write_all(int fd, std::string_view a, ByteSpan b)
{
    iovec iov[2] = {{const_cast<char*>(a.data()), a.size()},
                    {const_cast<std::uint8_t*>(b.data()), b.size()}};
    iovec* v = iov;
    int count = 2;
    while (count > 0) {
        const ssize_t w = ::writev(fd, v, count);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        auto left = static_cast<std::size_t>(w);
        while (count > 0 && left >= v->iov_len) {
            left -= v->iov_len;
            ++v;
            --count;
        }
        if (count > 0) {
            v->iov_base = static_cast<char*>(v->iov_base) + left;
            v->iov_len -= left;
        }
    }
    return true;
}

void fsync_directory(const fs::path& dir)
{
    const socket::UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.valid())
        ::fsync(d.get());
}

class FileSink final : public Sink {
public:
    FileSink(const FileSinkOptions& o, const Origin& origin)
        : options_(o), origin_(origin), node_(file_node_id(origin.node_id))
    {
        if (!options_.clock)
            options_.clock = [] { return Clock::now(); };
    }

    ~FileSink() override { close_file(); }

    /// Finds the next sequence and the chain's last link from the directory's newest file.
    Result<void, std::string> start()
    {
        std::error_code ec;
        fs::create_directories(options_.directory, ec);
        if (ec)
            return Err("create " + options_.directory.string() + ": " + ec.message());
        if (options_.zstd_level != 0) {
            cctx_.reset(ZSTD_createCCtx());
            if (!cctx_ ||
                ZSTD_isError(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, options_.zstd_level)) ||
                ZSTD_isError(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_checksumFlag, 1)))
                return Err("zstd level " + std::to_string(options_.zstd_level) + " refused");
        }
        std::vector<std::pair<LogFileName, fs::path>> ours;
        for (fs::directory_iterator it(options_.directory, ec), end; !ec && it != end; it.increment(ec)) {
            auto name = parse_log_file_name(it->path().filename().string());
            if (name && name->node == node_ && it->is_regular_file(ec))
                ours.emplace_back(std::move(*name), it->path());
        }
        if (ec)
            return Err("read " + options_.directory.string() + ": " + ec.message());
        std::sort(ours.begin(), ours.end(), [](const auto& a, const auto& b) { return a.first.seq > b.first.seq; });
        if (!ours.empty())
            next_seq_ = ours.front().first.seq + 1;
        // The chain goes on from the newest file's last intact frame (a file left empty by a
        // crash has none: the one before it then holds the link).
        for (const auto& [name, path] : ours) {
            bool found = false;
            const auto read = read_log_file(path, name.format, name.compressed, [&](const ReadFrame& f) {
                if (!f.link_ok)
                    return false;
                last_link_ = f.head.link;
                found = true;
                return true;
            }, false);
            if (!read)
                return Err(read.error());
            if (found)
                break;
        }
        apply_retention();
        return {};
    }

    std::string kind() const override { return "file"; }

    Result<void, std::string> deliver(const Batch& batch) override
    {
        if (!file_.valid()) {
            auto opened = open_file();
            if (!opened) {
                retry_at_ = options_.clock() + std::chrono::seconds(1);
                return opened;
            }
        }
        payload_.clear();
        if (options_.format == LogFormat::Binary)
            encode_binary(batch, origin_, payload_);
        else
            encode_json_lines(batch, origin_, payload_);
        auto written = write_frame(FrameType::Batch, as_bytes(payload_));
        if (!written) {
            retry_at_ = options_.clock() + std::chrono::seconds(1);
            return written;
        }
        if (options_.rotate_bytes != 0 && file_bytes_ >= options_.rotate_bytes)
            close_file();
        return {};
    }

    void tick() override
    {
        const auto now = options_.clock();
        if (file_.valid() && options_.rotate_seconds != 0 &&
            now - opened_at_ >= std::chrono::seconds(options_.rotate_seconds))
            close_file();
        if (now - retention_at_ >= std::chrono::minutes(1))
            apply_retention();
    }

    bool flush(std::chrono::milliseconds) override
    {
        return !file_.valid() || ::fdatasync(file_.get()) == 0;
    }

    bool ready() override { return options_.clock() >= retry_at_; }

private:
    Result<void, std::string> open_file()
    {
        const auto now = options_.clock();
        LogFileName name{node_, std::chrono::floor<std::chrono::seconds>(now), next_seq_, options_.format,
                         options_.zstd_level != 0};
        const CreatedFile created = create_numbered_file(
            options_.directory, next_seq_,
            [&](std::uint64_t seq) {
                name.seq = seq;
                return name.str();
            },
            path_);
        if (created.fd >= 0) {
            file_.reset(created.fd);
            next_seq_ = created.seq + 1;
            opened_at_ = now;
            file_bytes_ = 0;
            frames_ = 0;
            fsync_directory(options_.directory);
            return {};
        }
        if (errno != EEXIST)
            return Err(errno_text("create", path_, errno));
        return Err("no free file name in " + options_.directory.string());
    }

    /// One frame: the batch's data as stored (one zstd frame, or plain) after its chain header,
    /// in one write(2). A failed write is cut back off the file so the file stays a run of whole
    /// frames.
    Result<void, std::string> write_frame(FrameType type, ByteSpan payload)
    {
        ByteSpan stored = payload;
        if (cctx_ && !payload.empty()) {
            compressed_.resize(ZSTD_compressBound(payload.size()));
            const std::size_t n = ZSTD_compress2(cctx_.get(), compressed_.data(), compressed_.size(),
                                                 payload.data(), payload.size());
            if (ZSTD_isError(n))
                return Err(std::string("zstd: ") + ZSTD_getErrorName(n));
            stored = as_bytes(std::string_view(compressed_).substr(0, n));
        }
        if (stored.size() > kMaxFrameData)
            return Err("batch of " + std::to_string(stored.size()) + " octets is too large for a file");
        FrameHead head{type, frames_, static_cast<std::uint32_t>(stored.size()), last_link_, {}};
        head.link = chain_link(head.prev, type, frames_, stored);
        header_.clear();
        append_chain_header(options_.format, cctx_ != nullptr, head, header_);
        if (!write_all(file_.get(), header_, stored)) {
            const int e = errno;
            if (::ftruncate(file_.get(), static_cast<off_t>(file_bytes_)) != 0)
                file_.reset(); // cannot undo: leave it unsealed (verify calls it incomplete), start anew
            return Err(errno_text("write", path_, e));
        }
        file_bytes_ += header_.size() + stored.size();
        ++frames_;
        last_link_ = head.link;
        return {};
    }

    /// Seals, syncs and closes the open file (rotation, shutdown). The next batch opens a new one.
    void close_file()
    {
        if (!file_.valid())
            return;
        (void)write_frame(FrameType::Seal, {});
        ::fsync(file_.get());
        file_.reset();
    }

    void apply_retention()
    {
        const auto now = options_.clock();
        retention_at_ = now;
        // Only our own files; never the open one.
        remove_expired_files(options_.directory, options_.retention_days, now, path_, node_,
                             [](std::string_view file) { return parse_log_file_name(file); });
    }

    FileSinkOptions options_;
    Origin origin_;
    std::string node_;
    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx_{nullptr, ZSTD_freeCCtx};
    socket::UniqueFd file_;
    fs::path path_;
    Clock::time_point opened_at_{};
    Clock::time_point retention_at_{};
    Clock::time_point retry_at_{};
    std::uint64_t next_seq_ = 1;
    std::uint64_t file_bytes_ = 0;
    std::uint64_t frames_ = 0;
    Link last_link_{};
    std::string payload_;
    std::string header_;
    std::string compressed_;
};

} // namespace

Result<std::unique_ptr<Sink>, std::string> make_file_sink(const FileSinkOptions& options, const Origin& origin)
{
    if (options.directory.empty())
        return Err(std::string("file sink: no directory"));
    if (options.zstd_level < 0 || options.zstd_level > ZSTD_maxCLevel())
        return Err("file sink: zstd level " + std::to_string(options.zstd_level) + " out of 0-" +
                   std::to_string(ZSTD_maxCLevel()));
    auto sink = std::make_unique<FileSink>(options, origin);
    auto started = sink->start();
    if (!started)
        return Err("file sink: " + started.error());
    return std::unique_ptr<Sink>(std::move(sink));
}

} // namespace idpath::mirror
