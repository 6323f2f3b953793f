#pragma once
/// The mirror's persisted replication state (docs/replication.md): the upstream it belongs to,
/// the shard, the last transaction id applied and the lastQueryDate to send next. JSON, written
/// to a temporary file, fsynced and renamed (controlplane/io/durable_io), so a crash leaves the
/// old state or the new one. State for another upstream or shard is not used (a dump follows).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "controlplane/replication/repl_wire.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::replication {

struct ReplState {
    std::string upstream; // "192.0.2.10:2641"
    ShardFilter shard;
    std::uint64_t last_txn_id = 0;
    std::int64_t last_query_date_ms = 0;
    std::int64_t last_dump_unix = 0;
    bool operator==(const ReplState&) const = default;
};

/// nullopt when the file does not exist; an error naming the file when it is unreadable or damaged.
Result<std::optional<ReplState>, std::string> read_state(const std::filesystem::path& file);
Result<void, std::string> write_state(const std::filesystem::path& file, const ReplState& s);

} // namespace idpath::replication
