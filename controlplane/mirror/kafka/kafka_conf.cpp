#include "controlplane/mirror/kafka/kafka_conf.hpp"

#include <string_view>
#include <utility>

namespace idpath::mirror {

namespace {

Result<void, std::string> set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value)
{
    char reason[512] = {};
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), reason, sizeof reason) != RD_KAFKA_CONF_OK)
        return Err("kafka property '" + key + "': " + reason);
    return {};
}

} // namespace

Result<KafkaConf, std::string> producer_conf(const KafkaSinkOptions& options)
{
    if (options.brokers.empty())
        return Err(std::string("kafka: no brokers"));
    if (options.topic.empty())
        return Err(std::string("kafka: no topic"));

    KafkaConf conf(rd_kafka_conf_new());
    const std::pair<const char*, std::string> ours[] = {
        {"bootstrap.servers", options.brokers},
        {"client.id", "idpath"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.codec", "zstd"},
        {"linger.ms", "5"},
        {"queue.buffering.max.kbytes", "65536"},
        {"queue.buffering.max.messages", "100000"},
        {"message.timeout.ms", "30000"},
        {"reconnect.backoff.max.ms", "2000"},
        {"statistics.interval.ms", "1000"},
    };
    for (const auto& [key, value] : ours)
        if (auto r = set(conf.get(), key, value); !r)
            return Err(r.error());

    for (const std::string& property : options.properties) {
        const std::size_t eq = property.find('=');
        if (eq == std::string::npos || eq == 0)
            return Err("kafka property '" + property + "': not key=value");
        if (auto r = set(conf.get(), property.substr(0, eq), property.substr(eq + 1)); !r)
            return Err(r.error());
    }
    return conf;
}

std::string conf_value(const rd_kafka_conf_t* conf, const char* name)
{
    char value[512];
    std::size_t size = sizeof value;
    if (rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK)
        return {};
    return value;
}

} // namespace idpath::mirror
