#pragma once
// Helpers of the probe tests: a temporary directory, reading a file, and tshark when present.

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

namespace idpath::mirror::test {

class TempDir {
public:
    TempDir()
    {
        std::string t = (std::filesystem::temp_directory_path() / "idpath-probe.XXXXXX").string();
        path_ = ::mkdtemp(t.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

inline bool have_tshark() { return ::access("/usr/bin/tshark", X_OK) == 0; }

/// tshark's output for `args` (stderr discarded), and its exit status.
inline std::pair<std::string, int> run_tshark(const std::string& args)
{
    const std::string cmd = "/usr/bin/tshark " + args + " 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr)
        return {"", -1};
    std::string out;
    std::array<char, 4096> buf;
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
        out.append(buf.data(), n);
    return {out, ::pclose(p)};
}

} // namespace idpath::mirror::test
