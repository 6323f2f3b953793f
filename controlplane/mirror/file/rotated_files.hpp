#pragma once
/// The steps the log files (file_sink.cpp) and the probe's pcapng files (probe_writer.cpp) share:
/// a new file under the first free name of a numbered series, and retention by the start time
/// in a file's own name.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace idpath::mirror {

struct CreatedFile {
    int fd = -1;            // -1: failed, errno says why (EEXIST when every name tried was taken)
    std::uint64_t seq = 0;  // the name's sequence; on failure the first not known to be taken
};

/// Creates `directory / name(seq)`, or with the next sequence while that exists (up to 1000
/// tries), write-only and appending; `path` gets the last name tried. O_EXCL: another writer's
/// (or a clock-stepped) file of the same name is never reused.
CreatedFile create_numbered_file(const std::filesystem::path& directory, std::uint64_t seq,
                                 const std::function<std::string(std::uint64_t)>& name,
                                 std::filesystem::path& path);

/// Deletes the regular files (not symlinks) of `directory` that `ours_started` dates (by their
/// name: nullopt for anything not ours) more than `retention_days` before `now`; never `keep`.
/// 0 days keeps everything, and so does a limit past what the clock can count back (~290 years).
void remove_expired_files(const std::filesystem::path& directory, std::uint32_t retention_days,
                          std::chrono::system_clock::time_point now, const std::filesystem::path& keep,
                          const std::function<std::optional<std::chrono::sys_seconds>(std::string_view)>& ours_started);

/// remove_expired_files for the files whose name `parse` reads (nullopt, or a struct with `node`
/// and `start`) with the node id `node`.
template <class Parse>
void remove_expired_files(const std::filesystem::path& directory, std::uint32_t retention_days,
                          std::chrono::system_clock::time_point now, const std::filesystem::path& keep,
                          std::string_view node, Parse parse)
{
    remove_expired_files(directory, retention_days, now, keep,
                         [&](std::string_view file) -> std::optional<std::chrono::sys_seconds> {
                             const auto name = parse(file);
                             if (!name || name->node != node)
                                 return std::nullopt;
                             return name->start;
                         });
}

} // namespace idpath::mirror
