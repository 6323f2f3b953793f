#include "controlplane/journal/journal_segments.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <system_error>

#include "controlplane/io/durable_io.hpp"
#include "controlplane/io/file_error.hpp"
#include "controlplane/journal/journal_format.hpp"

namespace idpath::journal {

namespace {

/// Digits of the largest u64: every txn id fits, and names sort as the numbers do.
constexpr std::size_t kTxnDigits = 20;

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return "journal: " + io::file_error(what, path, e);
}

std::filesystem::path directory_of(const std::filesystem::path& p)
{
    return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

} // namespace

std::filesystem::path segment_path(const std::filesystem::path& active, std::uint64_t first_txn)
{
    char digits[kTxnDigits + 1];
    std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(first_txn));
    return active.string() + "." + digits;
}

std::filesystem::path creating_path(const std::filesystem::path& active)
{
    return active.string() + ".new";
}

Result<std::vector<SegmentFile>, std::string> list_segments(const std::filesystem::path& active)
{
    const std::string prefix = active.filename().string() + ".";
    const std::filesystem::path dir = directory_of(active);
    std::vector<SegmentFile> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() != prefix.size() + kTxnDigits || name.compare(0, prefix.size(), prefix) != 0)
            continue;
        const char* first = name.data() + prefix.size();
        const char* last = name.data() + name.size();
        std::uint64_t txn = 0;
        const auto [ptr, err] = std::from_chars(first, last, txn);
        if (err != std::errc() || ptr != last || !std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        out.push_back({active.has_parent_path() ? active.parent_path() / name : std::filesystem::path(name), txn});
    }
    if (ec)
        return Err(failed("list segments in", dir, ec.value()));
    std::sort(out.begin(), out.end(), [](const SegmentFile& a, const SegmentFile& b) { return a.first_txn < b.first_txn; });
    return out;
}

std::string check_consecutive(const std::vector<SegmentSpan>& files)
{
    for (std::size_t i = 1; i < files.size(); ++i) {
        const SegmentSpan& a = files[i - 1];
        const SegmentSpan& b = files[i];
        if (b.first_txn == a.last_txn + 1)
            continue;
        const std::string between = a.path.string() + " (txns " + std::to_string(a.first_txn) + ".." +
                                    std::to_string(a.last_txn) + ") and " + b.path.string() + " (from txn " +
                                    std::to_string(b.first_txn) + ")";
        if (b.first_txn > a.last_txn + 1)
            return "journal: gap between " + between + ": txns " + std::to_string(a.last_txn + 1) + ".." +
                   std::to_string(b.first_txn - 1) + " are missing; restore the segment holding them";
        return "journal: overlap between " + between + ": txns " + std::to_string(b.first_txn) + ".." +
               std::to_string(a.last_txn) + " are in both";
    }
    return {};
}

Result<int, std::string> create_active(const std::filesystem::path& active, std::uint64_t first_txn)
{
    const std::filesystem::path tmp = creating_path(active);
    const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Err(failed("create", tmp, errno));
    const std::vector<std::uint8_t> head = file_header(first_txn);
    if (!io::write_all(fd, head, 0) || ::fsync(fd) != 0 || ::rename(tmp.c_str(), active.c_str()) != 0) {
        const int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return Err(failed("create", active, e));
    }
    // The fd follows the renamed file: it is the active file from here on.
    if (!io::sync_directory(directory_of(active))) {
        const int e = errno;
        ::close(fd);
        return Err(failed("fsync directory of", active, e));
    }
    return fd;
}

} // namespace idpath::journal
