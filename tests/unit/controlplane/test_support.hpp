#pragma once
/// Helpers shared by the controlplane unit tests: temporary directories and the source tree.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace idpath::test {

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
public:
    TempDir()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "idpath-cp-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

    /// Writes `text` to `name` inside the directory and returns its path.
    std::filesystem::path write(std::string_view name, std::string_view text) const
    {
        const auto p = path_ / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream out(p, std::ios::binary);
        out << text;
        return p;
    }

private:
    std::filesystem::path path_;
};

/// The source tree root, from IDPATH_SOURCE_ROOT (set by tests/unit/controlplane/meson.build).
inline std::filesystem::path source_root()
{
    const char* root = std::getenv("IDPATH_SOURCE_ROOT");
    return root ? std::filesystem::path(root) : std::filesystem::path(".");
}

} // namespace idpath::test
