#include "tests/unit/mirror/kafka/kafka_test_util.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "controlplane/mirror/core/encode.hpp"
#include "tests/unit/mirror/sample_records.hpp"

namespace idpath::mirror::test {

querylog::Record query_record(std::uint16_t source, std::uint64_t seq)
{
    const std::string handle = "20.500/" + std::to_string(source) + "-" + std::to_string(seq);
    querylog::Record r = testing::query_record(source, seq, 1'790'000'000'000'000'000ull + seq, handle);
    r.latency_ns = 1000;
    r.request_bytes = 100;
    r.response_bytes = 300;
    r.datagrams = 0;
    testing::set_ipv4(r.client, 192, 0, 2, 1);
    testing::set_ipv4(r.server, 192, 0, 2, 1);
    return r;
}

Batch make_batch(std::uint64_t id, std::uint16_t sources, std::size_t per_source, std::size_t events,
                 std::map<std::uint16_t, std::uint64_t>& next_seq)
{
    Batch b;
    b.id = id;
    for (std::size_t i = 0; i < per_source; ++i)
        for (std::uint16_t s = 0; s < sources; ++s)
            b.records.push_back(query_record(s, ++next_seq[s]));
    for (std::size_t i = 0; i < events; ++i) {
        Event e;
        e.seq = ++next_seq[kControlSource];
        e.time_ns = 1'790'000'000'000'000'000ull + e.seq;
        e.category = "admin";
        e.fields = {{"action", "test"}, {"n", std::to_string(e.seq)}};
        b.events.push_back(std::move(e));
    }
    return b;
}

MockCluster::MockCluster(int brokers, const std::string& topic, int partitions) : brokers_(brokers)
{
    char reason[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The cluster's own handle never connects anywhere; keep librdkafka from warning so.
    rd_kafka_conf_set(conf, "log_level", "0", reason, sizeof reason);
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof reason);
    if (!handle_)
        throw std::runtime_error(reason);
    cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
    if (!cluster_)
        throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    if (rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw std::runtime_error("rd_kafka_mock_topic_create failed");
}

MockCluster::~MockCluster()
{
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
}

std::string MockCluster::bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

void MockCluster::set_all_down(bool down)
{
    for (int id = 1; id <= brokers_; ++id)
        if (down)
            rd_kafka_mock_broker_set_down(cluster_, id);
        else
            rd_kafka_mock_broker_set_up(cluster_, id);
}

namespace {

void check_key(Received& got, const rd_kafka_message_t& m, std::uint16_t source)
{
    const std::string key(static_cast<const char*>(m.key), m.key_len);
    const std::string want = "node-7/" + std::to_string(source);
    if (key != want)
        got.problems.push_back("key " + key + " on an item of source " + std::to_string(source));
}

void take_binary(Received& got, const rd_kafka_message_t& m)
{
    std::size_t consumed = 0;
    auto d = decode_binary(ByteSpan(static_cast<const std::uint8_t*>(m.payload), m.len), consumed);
    if (!d || consumed != m.len) {
        got.problems.push_back(d ? "trailing octets" : "undecodable: " + d.error());
        return;
    }
    if (d->origin.node_id != "node-7")
        got.problems.push_back("origin " + d->origin.node_id);
    for (const querylog::Record& r : d->batch.records) {
        check_key(got, m, r.source);
        const std::string handle(reinterpret_cast<const char*>(r.handle), r.handle_stored);
        if (handle != "20.500/" + std::to_string(r.source) + "-" + std::to_string(r.seq))
            got.problems.push_back("record content " + handle);
        got.seqs[r.source].push_back(r.seq);
    }
    for (const Event& e : d->batch.events) {
        check_key(got, m, kControlSource);
        got.seqs[kControlSource].push_back(e.seq);
    }
    const std::size_t n = d->batch.size();
    got.items += n;
    if (d->batch.replayed)
        got.replayed += n;
}

void take_json(Received& got, const rd_kafka_message_t& m)
{
    const std::string text(static_cast<const char*>(m.payload), m.len);
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        if (end == std::string::npos) {
            got.problems.push_back("line without its newline");
            return;
        }
        const auto j = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(at),
                                             text.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
        at = end + 1;
        if (!j.is_object() || !j.contains("source") || !j.contains("seq")) {
            got.problems.push_back("bad JSON line");
            continue;
        }
        const auto source = j["source"].get<std::uint16_t>();
        check_key(got, m, source);
        if (j.value("node_id", "") != "node-7")
            got.problems.push_back("node_id missing");
        got.seqs[source].push_back(j["seq"].get<std::uint64_t>());
        ++got.items;
        if (j.value("replayed", false))
            ++got.replayed;
    }
}

} // namespace

Received consume(const std::string& bootstraps, const std::string& topic, int partitions,
                 KafkaFormat format, std::size_t expected, std::chrono::milliseconds limit)
{
    Received got;
    char reason[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const std::pair<const char*, std::string> settings[] = {
        {"bootstrap.servers", bootstraps},
        {"group.id", "idpath-test"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "false"},
    };
    for (const auto& [key, value] : settings)
        if (rd_kafka_conf_set(conf, key, value.c_str(), reason, sizeof reason) != RD_KAFKA_CONF_OK)
            throw std::runtime_error(reason);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof reason);
    if (!rk)
        throw std::runtime_error(reason);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p)
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);

    using Clock = std::chrono::steady_clock;
    const auto until = Clock::now() + limit;
    auto quiet_until = Clock::time_point::max();
    while (Clock::now() < std::min(until, quiet_until)) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50);
        if (m) {
            if (m->err)
                got.problems.push_back(std::string("consumer: ") + rd_kafka_err2str(m->err));
            else {
                ++got.messages;
                if (format == KafkaFormat::Binary)
                    take_binary(got, *m);
                else
                    take_json(got, *m);
            }
            rd_kafka_message_destroy(m);
        }
        if (got.items >= expected && quiet_until == Clock::time_point::max())
            quiet_until = Clock::now() + std::chrono::milliseconds(300);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got;
}

} // namespace idpath::mirror::test
