/// Numbered file creation and retention for the log and probe files (rotated_files.hpp).

#include "controlplane/mirror/file/rotated_files.hpp"

#include <fcntl.h>

#include <cerrno>
#include <system_error>

namespace idpath::mirror {

namespace fs = std::filesystem;

CreatedFile create_numbered_file(const fs::path& directory, std::uint64_t seq,
                                 const std::function<std::string(std::uint64_t)>& name, fs::path& path)
{
    for (int attempt = 0; attempt < 1000; ++attempt, ++seq) {
        path = directory / name(seq);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
        if (fd >= 0)
            return {fd, seq};
        if (errno != EEXIST)
            return {-1, seq};
    }
    errno = EEXIST;
    return {-1, seq};
}

void remove_expired_files(const fs::path& directory, std::uint32_t retention_days,
                          std::chrono::system_clock::time_point now, const fs::path& keep,
                          const std::function<std::optional<std::chrono::sys_seconds>(std::string_view)>& ours_started)
{
    if (retention_days == 0 || retention_days > 100'000)
        return;
    const auto cutoff = now - std::chrono::days(retention_days);
    std::error_code ec;
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
        const auto start = ours_started(it->path().filename().string());
        if (!start || *start >= cutoff || it->path() == keep || it->is_symlink(ec) || !it->is_regular_file(ec))
            continue;
        fs::remove(it->path(), ec);
    }
}

} // namespace idpath::mirror
