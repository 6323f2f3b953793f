#include "controlplane/app/table_source.hpp"

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "controlplane/log/log.hpp"
#include "controlplane/snapshot/snapshot_file.hpp"
#include "dataplane/table/handle_key.hpp"

namespace idpath::app {
namespace {

Result<LoadedTable, std::string> from_files(const config::Config& cfg)
{
    table::TableBuilder builder;
    for (const auto& p : cfg.data.homed_prefixes)
        builder.home(p);
    const auto report = load::load_identifiers(cfg.data.identifier_files, cfg.data.homed_prefixes, builder,
                                               static_cast<std::uint32_t>(std::time(nullptr)));
    if (!report) {
        for (const auto& e : report.error())
            log::error(e.to_string());
        std::string text = "identifier data rejected (" + std::to_string(report.error().size()) + " error(s))";
        if (!report.error().empty())
            text += ": " + report.error().front().to_string();
        return Err{std::move(text)};
    }
    return LoadedTable{std::move(builder).build(), "files", *report};
}

Result<LoadedTable, std::string> from_snapshot(const config::Config& cfg)
{
    auto loaded = snapshot::load_snapshot_file(cfg.data.snapshot);
    if (!loaded) {
        log::error(loaded.error());
        return Err{std::move(loaded.error())};
    }
    LoadedTable out{std::move(loaded->table), "snapshot", {}};
    // The config's prefixes join the snapshot's: a node homes what its config says.
    table::Retired unused; // nobody reads this table yet
    for (const auto& p : cfg.data.homed_prefixes)
        out.table->home(table::normalize(p), unused);
    out.report.identifiers = out.table->size();
    out.report.value_bytes = out.table->value_bytes();
    out.report.seconds = loaded->seconds;
    log::info("snapshot ", cfg.data.snapshot, ": ", loaded->records, " handles, ", loaded->bytes, " bytes, made ",
              loaded->created_unix, " by ", loaded->source.empty() ? "-" : loaded->source, ", loaded in ",
              loaded->seconds, " s");
    return out;
}

} // namespace

Result<LoadedTable, std::string> load_table(const config::Config& cfg)
{
    std::error_code ec;
    if (!cfg.data.snapshot.empty() && std::filesystem::exists(cfg.data.snapshot, ec))
        return from_snapshot(cfg);
    if (!cfg.data.snapshot.empty())
        log::info("snapshot ", cfg.data.snapshot, " does not exist yet: loading the identifier files");
    return from_files(cfg);
}

Result<std::string, std::string> write_snapshot_from_files(const config::Config& cfg, const std::string& out)
{
    auto loaded = from_files(cfg);
    if (!loaded)
        return Err{std::move(loaded.error())};
    table::snapshot::SnapshotMeta meta;
    meta.created_unix = static_cast<std::int64_t>(std::time(nullptr));
    meta.source = "idpathd --write-snapshot " + cfg.source.string();
    auto saved = snapshot::save_snapshot(*loaded->table, out, meta);
    if (!saved)
        return Err{std::move(saved.error())};
    char text[256];
    std::snprintf(text, sizeof text, "%s: %llu handles, %llu bytes (loaded in %.2f s, written in %.2f s)",
                  out.c_str(), static_cast<unsigned long long>(saved->records),
                  static_cast<unsigned long long>(saved->bytes), loaded->report.seconds, saved->seconds);
    return std::string(text);
}

} // namespace idpath::app
