#pragma once
/// How a failed file operation is told, the same way everywhere (snapshots, the journal, the
/// replication state, the log mirror's files): "<what> <path>: <strerror>".

#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace idpath::io {

/// "open /var/lib/idpath/changes.journal: No such file or directory" for ("open", path, ENOENT).
inline std::string file_error(std::string_view what, const std::filesystem::path& path, int e)
{
    return std::string(what) + " " + path.string() + ": " + std::strerror(e);
}

} // namespace idpath::io
