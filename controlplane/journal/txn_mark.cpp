#include "controlplane/journal/txn_mark.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>

#include "controlplane/io/durable_io.hpp"
#include "controlplane/io/file_error.hpp"

namespace idpath::journal {

namespace {

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return "journal: " + io::file_error(what, path, e);
}

} // namespace

std::filesystem::path txn_mark_path(const std::filesystem::path& snapshot)
{
    return snapshot.string() + ".txn";
}

Result<void, std::string> write_txn_mark(const std::filesystem::path& path, std::uint64_t txn)
{
    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Err(failed("create", tmp, errno));
    const std::string text = std::to_string(txn) + "\n";
    ssize_t n = 0;
    do
        n = ::write(fd, text.data(), text.size()); // a few octets: whole or failed
    while (n < 0 && errno == EINTR);
    if (n >= 0 && n != static_cast<ssize_t>(text.size()))
        errno = EIO;
    if (n != static_cast<ssize_t>(text.size()) || ::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return Err(failed("write", tmp, err));
    }
    if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return Err(failed("rename to", path, err));
    }
    if (!io::sync_directory(path.parent_path()))
        return Err(failed("fsync directory of", path, errno));
    return {};
}

Result<std::uint64_t, std::string> read_txn_mark(const std::filesystem::path& path)
{
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT)
            return std::uint64_t{0};
        return Err(failed("open", path, errno));
    }
    std::string text;
    std::getline(in, text);
    std::uint64_t txn = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), txn);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return Err("journal: " + path.string() + ": not a txn id: '" + text + "'");
    return txn;
}

} // namespace idpath::journal
