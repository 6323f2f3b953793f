#pragma once
/// A whole file mapped read-only, unmapped with the object: how snapshots and journal files are
/// read without a copy of the file in the heap (the page cache holds it, and can drop it).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::io {

class MappedFile {
public:
    /// Maps `path`; with `populate` every page is read in now (MAP_POPULATE), so the copy that
    /// follows takes no page faults. Error: "open /x/y.snap: No such file or directory".
    static Result<MappedFile, std::string> open(const std::filesystem::path& path, bool populate);

    MappedFile() = default;
    ~MappedFile();
    MappedFile(MappedFile&& o) noexcept;
    MappedFile& operator=(MappedFile&& o) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    ByteSpan bytes() const noexcept { return {data_, size_}; }

private:
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace idpath::io
