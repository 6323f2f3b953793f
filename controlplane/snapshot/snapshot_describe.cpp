#include "controlplane/snapshot/snapshot_describe.hpp"

#include <cstdio>
#include <ctime>

#include "controlplane/io/mapped_file.hpp"

namespace idpath::snapshot {

namespace fmt = table::snapshot;

namespace {

std::string hex64(std::uint64_t v)
{
    char b[19];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
    return b;
}

std::string utc(std::int64_t unix_time)
{
    const auto t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    if (!::gmtime_r(&t, &tm))
        return "";
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

} // namespace

nlohmann::json describe_snapshot(const fmt::SnapshotInfo& info, bool shards)
{
    std::uint64_t buckets = 0;
    std::uint64_t bucket_bytes = 0;
    std::uint64_t arena_bytes = 0;
    std::uint64_t tombstones = 0;
    std::uint64_t garbage = 0;
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t s = 0; s < info.shards.size(); ++s) {
        const fmt::ShardEntry& d = info.shards[s];
        buckets += d.bucket_count;
        bucket_bytes += std::uint64_t{d.bucket_count} * 64;
        arena_bytes += d.arena_bytes;
        tombstones += d.tombstones;
        garbage += d.garbage_bytes;
        if (shards)
            list.push_back({{"shard", s},
                            {"buckets", d.bucket_count},
                            {"records", d.records},
                            {"tombstones", d.tombstones},
                            {"value_bytes", d.value_bytes},
                            {"garbage_bytes", d.garbage_bytes},
                            {"offset", d.buckets_offset},
                            {"arena_bytes", d.arena_bytes},
                            {"checksum", hex64(d.checksum)}});
    }
    nlohmann::json j = {
        {"format_version", info.format_version},
        {"layout_version", info.layout_version},
        {"checksum", fmt::kHashId},
        {"head_checksum", hex64(info.head_checksum)},
        {"created_unix", info.created_unix},
        {"created", utc(info.created_unix)},
        {"source", info.source},
        {"records", info.records},
        {"value_bytes", info.value_bytes},
        {"homed", info.homed},
        {"shard_bits", info.shard_bits},
        {"shards", info.shards.size()},
        {"buckets", buckets},
        {"bucket_bytes", bucket_bytes},
        {"arena_bytes", arena_bytes},
        {"tombstones", tombstones},
        {"garbage_bytes", garbage},
        {"data_offset", info.data_offset},
        {"file_bytes", info.file_bytes},
    };
    if (shards)
        j["shard_list"] = std::move(list);
    return j;
}

Result<nlohmann::json, std::string> describe_snapshot_file(const std::filesystem::path& path, DescribeOptions options)
{
    auto mapped = io::MappedFile::open(path, options.verify);
    if (!mapped)
        return Err("snapshot: " + mapped.error());
    const ByteSpan file = mapped->bytes();
    auto head = fmt::read_snapshot_head(file);
    if (!head)
        return Err(path.string() + ": " + head.error());
    nlohmann::json j = describe_snapshot(*head, options.shards);
    j["file"] = path.string();
    if (options.verify) {
        nlohmann::json errors = nlohmann::json::array();
        for (std::size_t s = 0; s < head->shards.size(); ++s) {
            const fmt::ShardEntry& d = head->shards[s];
            const ByteSpan buckets = file.subspan(d.buckets_offset, std::uint64_t{d.bucket_count} * 64);
            const ByteSpan arena = file.subspan(d.arena_offset, d.arena_bytes);
            if (fmt::shard_checksum(buckets, arena) != d.checksum)
                errors.push_back("snapshot: shard " + std::to_string(s) + ": checksum mismatch");
        }
        j["verified"] = errors.empty();
        if (!errors.empty())
            j["errors"] = std::move(errors);
    }
    return j;
}

} // namespace idpath::snapshot
