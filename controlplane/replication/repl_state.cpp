#include "controlplane/replication/repl_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "controlplane/io/durable_io.hpp"
#include "controlplane/io/file_error.hpp"

namespace idpath::replication {

namespace {

constexpr int kStateVersion = 1;

std::string failed(const char* what, const std::filesystem::path& path, int e)
{
    return "replication state: " + io::file_error(what, path, e);
}

std::string damaged(const std::filesystem::path& path, const std::string& why)
{
    return "replication state: " + path.string() + " is damaged: " + why;
}

} // namespace

Result<std::optional<ReplState>, std::string> read_state(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        if (errno == ENOENT)
            return std::optional<ReplState>{};
        return Err(failed("open", file, errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        return Err(failed("read", file, errno));

    const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
        return Err(damaged(file, "not a JSON object"));
    // Every field is checked by type so a hand-edited or truncated file is an error, not a
    // silent 0 that would make the mirror ask for transactions from the start.
    try {
        if (j.at("version").get<int>() != kStateVersion)
            return Err(damaged(file, "unsupported version " + j.at("version").dump()));
        ReplState s;
        s.upstream = j.at("upstream").get<std::string>();
        const auto& shard = j.at("shard");
        const auto hash_type = shard.at("hash_type").get<std::uint32_t>();
        if (hash_type > 0xff)
            return Err(damaged(file, "shard.hash_type out of range"));
        s.shard.hash_type = static_cast<std::uint8_t>(hash_type);
        s.shard.num_servers = shard.at("num_servers").get<std::uint32_t>();
        s.shard.server_num = shard.at("server_num").get<std::uint32_t>();
        s.last_txn_id = j.at("last_txn_id").get<std::uint64_t>();
        s.last_query_date_ms = j.at("last_query_date_ms").get<std::int64_t>();
        s.last_dump_unix = j.at("last_dump_unix").get<std::int64_t>();
        return std::optional<ReplState>(std::move(s));
    } catch (const nlohmann::json::exception& e) {
        return Err(damaged(file, e.what()));
    }
}

Result<void, std::string> write_state(const std::filesystem::path& file, const ReplState& s)
{
    const nlohmann::json j = {
        {"version", kStateVersion},
        {"upstream", s.upstream},
        {"shard", {{"hash_type", s.shard.hash_type}, {"num_servers", s.shard.num_servers},
                   {"server_num", s.shard.server_num}}},
        {"last_txn_id", s.last_txn_id},
        {"last_query_date_ms", s.last_query_date_ms},
        {"last_dump_unix", s.last_dump_unix},
    };
    const std::string text = j.dump(2) + "\n";

    const std::filesystem::path tmp = file.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Err(failed("create", tmp, errno));
    const ByteSpan bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    if (!io::write_all(fd, bytes, 0) || ::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return Err(failed("write", tmp, err));
    }
    if (::close(fd) != 0 || ::rename(tmp.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return Err(failed("rename to", file, err));
    }
    if (!io::sync_directory(file.parent_path()))
        return Err(failed("fsync directory of", file, errno));
    return {};
}

} // namespace idpath::replication
