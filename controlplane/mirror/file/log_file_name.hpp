#pragma once
/// Names of the file sink's files (docs/log-schema.md, "Files"):
/// `idpath-<node>-<YYYYMMDDTHHMMSSZ>-<seq>.<ipl|jsonl>[.zst]`. The node id tells a node's files
/// apart from anything else in the directory (retention deletes only names that parse with its
/// own node id); the UTC start time makes them sort and dates them for retention; the sequence,
/// one more than the highest already there, orders them even when the clock steps back and makes
/// a restart never reuse a name.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idpath::mirror {

enum class LogFormat : std::uint8_t { Binary, Json };

struct LogFileName {
    std::string node;  // sanitized node id ([A-Za-z0-9._] kept, anything else '_')
    std::chrono::sys_seconds start{};
    std::uint64_t seq = 0;
    LogFormat format = LogFormat::Binary;
    bool compressed = false;

    std::string str() const;
};

/// The node id as it appears in file names: '-' and anything outside [A-Za-z0-9._] become '_'
/// so the name splits unambiguously; empty becomes "node".
std::string file_node_id(std::string_view node_id);

/// Parses one of our file names; nullopt for anything else.
std::optional<LogFileName> parse_log_file_name(std::string_view name);

} // namespace idpath::mirror
