#include "controlplane/io/mapped_file.hpp"
#include "controlplane/io/file_error.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace idpath::io {

namespace {

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return io::file_error(what, path, e);
}

} // namespace

Result<MappedFile, std::string> MappedFile::open(const std::filesystem::path& path, bool populate)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Err(failed("open", path, errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        return Err(failed("stat", path, e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Err(path.string() + ": not a regular file");
    }
    MappedFile m;
    m.size_ = static_cast<std::size_t>(st.st_size);
    if (m.size_ > 0) {
        void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
        if (p == MAP_FAILED) {
            const int e = errno;
            ::close(fd);
            return Err(failed("mmap", path, e));
        }
        m.data_ = static_cast<const std::uint8_t*>(p);
    }
    // The mapping keeps the file; the descriptor is not needed past here.
    ::close(fd);
    return m;
}

MappedFile::~MappedFile()
{
    if (data_)
        ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0))
{
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept
{
    if (this != &o) {
        if (data_)
            ::munmap(const_cast<std::uint8_t*>(data_), size_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

} // namespace idpath::io
