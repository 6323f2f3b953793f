#include "controlplane/app/mirror_setup.hpp"

#include "controlplane/mirror/clickhouse/clickhouse_sink.hpp"
#include "controlplane/mirror/core/exporter.hpp"
#include "controlplane/mirror/core/mirror_stats.hpp"
#include "controlplane/mirror/core/sink_runner.hpp"
#include "controlplane/mirror/core/spool.hpp"
#include "controlplane/mirror/file/file_sink.hpp"
#include "controlplane/mirror/kafka/kafka_sink.hpp"
#include "controlplane/mirror/probe/probe_writer.hpp"
#include "controlplane/mirror/syslog/syslog_sink.hpp"

namespace idpath::app {
namespace {

using SinkResult = Result<std::unique_ptr<mirror::Sink>, std::string>;

SinkResult file_sink(const config::Config::Mirror::File& c, const mirror::Origin& origin)
{
    mirror::FileSinkOptions o;
    o.directory = c.directory;
    o.format = c.format == "json" ? mirror::LogFormat::Json : mirror::LogFormat::Binary;
    o.rotate_bytes = std::uint64_t{c.rotate_mb} << 20;
    o.rotate_seconds = c.rotate_seconds;
    o.retention_days = c.retention_days;
    o.zstd_level = static_cast<int>(c.zstd_level);
    return mirror::make_file_sink(o, origin);
}

SinkResult syslog_sink(const config::Config::Mirror::Syslog& c, const mirror::Origin& origin)
{
    auto hp = config::parse_host_port(c.address, 0);
    if (!hp)
        return Err(hp.error());
    mirror::SyslogSinkOptions o;
    o.host = hp->host;
    o.port = hp->port;
    o.tls = c.tls;
    o.ca_file = c.ca_file;
    o.cert_file = c.cert_file;
    o.key_file = c.key_file;
    o.server_name = c.server_name;
    return mirror::make_syslog_sink(o, origin);
}

SinkResult kafka_sink(const config::Config::Mirror::Kafka& c, const mirror::Origin& origin)
{
    mirror::KafkaSinkOptions o;
    o.brokers = c.brokers;
    o.topic = c.topic;
    o.format = c.format == "json" ? mirror::KafkaFormat::Json : mirror::KafkaFormat::Binary;
    o.properties = c.properties;
    return mirror::make_kafka_sink(o, origin);
}

SinkResult clickhouse_sink(const config::Config::Mirror::Clickhouse& c, const mirror::Origin& origin)
{
    mirror::ClickHouseSinkOptions o;
    o.url = c.url;
    if (const auto dot = c.table.find('.'); dot != std::string::npos) {
        o.database = c.table.substr(0, dot);
        o.table = c.table.substr(dot + 1);
    } else {
        o.table = c.table;
    }
    o.user = c.user;
    o.password = c.password;
    o.retention_days = c.retention_days;
    return mirror::make_clickhouse_sink(o, origin);
}

} // namespace

Result<std::unique_ptr<MirrorSetup>, std::string> MirrorSetup::make(const config::Config& cfg)
{
    const auto& m = cfg.mirror;
    const mirror::Origin origin{cfg.node.id, IDPATH_VERSION};
    struct Wanted {
        const char* name;
        bool on;
        SinkResult (*make)(const config::Config&, const mirror::Origin&);
    };
    const Wanted wanted[] = {
        {"file", !m.file.directory.empty(),
         [](const config::Config& c, const mirror::Origin& o) { return file_sink(c.mirror.file, o); }},
        {"syslog", !m.syslog.address.empty(),
         [](const config::Config& c, const mirror::Origin& o) { return syslog_sink(c.mirror.syslog, o); }},
        {"kafka", !m.kafka.brokers.empty(),
         [](const config::Config& c, const mirror::Origin& o) { return kafka_sink(c.mirror.kafka, o); }},
        {"clickhouse", !m.clickhouse.url.empty(),
         [](const config::Config& c, const mirror::Origin& o) { return clickhouse_sink(c.mirror.clickhouse, o); }},
    };
    std::unique_ptr<MirrorSetup> setup;
    for (const Wanted& w : wanted) {
        if (!w.on)
            continue;
        if (!setup)
            setup.reset(new MirrorSetup(cfg));
        auto sink = w.make(cfg, origin);
        if (!sink)
            return Err(std::string("mirror.") + w.name + ": " + sink.error());
        std::unique_ptr<mirror::Spool> spool;
        if (m.spool.max_mb > 0) {
            mirror::SpoolOptions so;
            so.directory = std::filesystem::path(m.spool.directory) / w.name;
            so.max_bytes = std::uint64_t{m.spool.max_mb} << 20;
            auto s = mirror::Spool::open(so, origin);
            if (!s)
                return Err("mirror.spool.directory: " + s.error());
            spool = std::move(s).value();
        }
        mirror::SinkRunnerOptions ro;
        ro.name = w.name;
        setup->runners_.push_back(std::make_unique<mirror::SinkRunner>(
            std::move(sink).value(), std::move(spool), &setup->events_, ro));
        setup->log_on_ = true;
    }
    if (!m.probe.directory.empty()) {
        if (!setup)
            setup.reset(new MirrorSetup(cfg));
        mirror::ProbeWriterOptions po;
        po.directory = m.probe.directory;
        po.node_id = cfg.node.id;
        po.sample = m.probe.sample;
        po.snap_bytes = static_cast<std::uint16_t>(std::min<std::uint32_t>(m.probe.snap_bytes, querylog::kProbeSnapMax));
        po.ring_packets = m.probe.ring_packets;
        po.rotate_bytes = std::uint64_t{m.probe.rotate_mb} << 20;
        po.rotate_seconds = m.probe.rotate_seconds;
        po.retention_days = m.probe.retention_days;
        auto probe = mirror::ProbeWriter::make(std::move(po));
        if (!probe)
            return Err("mirror.probe.directory: " + probe.error());
        setup->probe_ = std::move(probe).value();
    }
    return setup;
}

MirrorSetup::MirrorSetup(const config::Config& cfg)
    : heartbeat_ns_(std::uint64_t{cfg.mirror.heartbeat_seconds} * 1'000'000'000ull),
      rings_(cfg.mirror.ring_records),
      batch_records_(cfg.mirror.batch_records),
      batch_interval_(cfg.mirror.batch_ms)
{
}

MirrorSetup::~MirrorSetup() { stop(std::chrono::milliseconds(0)); }

querylog::Target MirrorSetup::add_source(std::string name)
{
    if (!log_on_)
        return {};
    const auto source = static_cast<std::uint16_t>(rings_.entries().size());
    auto& e = rings_.add(source, std::move(name));
    return {&e.ring, source, heartbeat_ns_};
}

void MirrorSetup::set_source_stats(const querylog::Target& target, const querylog::QueryLogStats* stats)
{
    for (auto& e : rings_.entries())
        if (&e.ring == target.ring)
            e.stats = stats;
}

querylog::ProbeTarget MirrorSetup::add_probe_source(std::string name)
{
    return probe_ ? probe_->add_source(std::move(name)) : querylog::ProbeTarget{};
}

void MirrorSetup::set_probe_stats(const querylog::ProbeTarget& target, const querylog::ProbeStats* stats)
{
    if (probe_)
        probe_->set_source_stats(target, stats);
}

void MirrorSetup::start()
{
    if (probe_)
        probe_->start();
    if (!log_on_)
        return;
    mirror::ExporterOptions eo;
    eo.batch_records = batch_records_;
    eo.batch_interval = batch_interval_;
    exporter_ = std::make_unique<mirror::Exporter>(rings_, events_, std::move(runners_), eo);
    exporter_->start();
}

void MirrorSetup::stop(std::chrono::milliseconds flush_timeout)
{
    if (stopped_)
        return;
    stopped_ = true;
    if (probe_)
        probe_->stop();
    if (exporter_)
        exporter_->stop(flush_timeout);
}

nlohmann::json MirrorSetup::stats_json() const
{
    nlohmann::json j = exporter_ ? mirror::mirror_stats_json(*exporter_) : nlohmann::json::object();
    if (probe_)
        j["probe"] = probe_->stats_json();
    return j;
}

std::vector<std::string> MirrorSetup::sink_names() const
{
    std::vector<std::string> names;
    for (const auto& r : exporter_ ? exporter_->runners() : runners_)
        names.push_back(r->name());
    return names;
}

} // namespace idpath::app
