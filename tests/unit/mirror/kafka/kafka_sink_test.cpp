// The Kafka sink against librdkafka's mock cluster, read back by a real consumer: every record
// arrives once and in per-source order; an outage hands deliveries back (or deliver() refuses)
// and, redelivered as the runner would, nothing is lost; bad properties are refused by name.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "controlplane/mirror/kafka/kafka_sink.hpp"
#include "tests/unit/mirror/kafka/kafka_test_util.hpp"

namespace idpath::mirror {
namespace {

using namespace std::chrono_literals;
using test::consume;
using test::kOrigin;
using test::make_batch;
using test::MockCluster;
using test::tick_until;

constexpr int kPartitions = 4;
const std::string kTopic = "idpath-log";

KafkaSinkOptions options_for(const MockCluster& cluster, KafkaFormat format,
                             std::vector<std::string> properties = {})
{
    KafkaSinkOptions o;
    o.brokers = cluster.bootstraps();
    o.format = format;
    o.properties = std::move(properties);
    return o;
}

/// What a SinkRunner does with a sink, reduced: batches handed back or refused go to a spool,
/// redelivered in order, marked replayed, once the sink is ready.
struct Runner {
    std::unique_ptr<Sink> sink;
    std::vector<Batch> spool;

    explicit Runner(std::unique_ptr<Sink> s) : sink(std::move(s))
    {
        sink->undelivered = [this](Batch&& b) { spool.push_back(std::move(b)); };
    }
    void send(const Batch& b)
    {
        if (!sink->ready() || !sink->deliver(b))
            spool.push_back(b);
        sink->tick();
    }
    std::size_t spooled_items() const
    {
        std::size_t n = 0;
        for (const Batch& b : spool)
            n += b.size();
        return n;
    }
    void replay()
    {
        std::vector<Batch> again;
        again.swap(spool);
        for (Batch& b : again) {
            b.replayed = true;
            const auto delivered = sink->deliver(b);
            ASSERT_TRUE(delivered.ok()) << delivered.error();
        }
    }
};

std::unique_ptr<Sink> make(const KafkaSinkOptions& o)
{
    auto sink = make_kafka_sink(o, kOrigin);
    EXPECT_TRUE(sink.ok()) << (sink ? "" : sink.error());
    return sink ? std::move(sink.value()) : nullptr;
}

/// Every source's sequence arrived exactly once, in order: 1..next_seq[source].
void expect_all_once_in_order(const test::Received& got,
                              const std::map<std::uint16_t, std::uint64_t>& next_seq)
{
    EXPECT_TRUE(got.problems.empty()) << got.problems.front();
    ASSERT_EQ(got.seqs.size(), next_seq.size());
    for (const auto& [source, last] : next_seq) {
        std::vector<std::uint64_t> want;
        for (std::uint64_t s = 1; s <= last; ++s)
            want.push_back(s);
        EXPECT_EQ(got.seqs.at(source), want) << "source " << source;
    }
}

/// Every source's sequence arrived exactly once, in whatever order.
void expect_all_once(const test::Received& got, const std::map<std::uint16_t, std::uint64_t>& next_seq)
{
    EXPECT_TRUE(got.problems.empty()) << got.problems.front();
    for (const auto& [source, last] : next_seq) {
        auto arrived = got.seqs.at(source);
        std::sort(arrived.begin(), arrived.end());
        std::vector<std::uint64_t> want;
        for (std::uint64_t s = 1; s <= last; ++s)
            want.push_back(s);
        EXPECT_EQ(arrived, want) << "source " << source;
    }
}

std::size_t total(const std::map<std::uint16_t, std::uint64_t>& next_seq)
{
    std::size_t n = 0;
    for (const auto& [source, last] : next_seq)
        n += last;
    return n;
}

TEST(KafkaSink, BadOptionsAreRefusedWithTheirName)
{
    KafkaSinkOptions o;
    o.brokers = "127.0.0.1:9";
    const auto refused = [&](std::vector<std::string> properties) {
        o.properties = std::move(properties);
        auto sink = make_kafka_sink(o, kOrigin);
        EXPECT_FALSE(sink.ok());
        return sink ? std::string() : sink.error();
    };
    EXPECT_NE(refused({"no.such.property=1"}).find("kafka property 'no.such.property': "),
              std::string::npos);
    const std::string bad_value = refused({"linger.ms=5", "acks=sometimes"});
    EXPECT_NE(bad_value.find("kafka property 'acks': "), std::string::npos) << bad_value;
    EXPECT_NE(bad_value.find("Invalid value"), std::string::npos) << bad_value;
    EXPECT_NE(refused({"linger.ms"}).find("'linger.ms': not key=value"), std::string::npos);
    EXPECT_NE(refused({"=5"}).find("not key=value"), std::string::npos);
    // Accepted one by one, refused together by librdkafka: idempotence needs acks=all.
    const std::string conflict = refused({"acks=1"});
    EXPECT_NE(conflict.find("kafka producer: "), std::string::npos) << conflict;
    EXPECT_NE(conflict.find("acks"), std::string::npos) << conflict;
    o.properties.clear();
    o.brokers.clear();
    EXPECT_EQ(make_kafka_sink(o, kOrigin).error(), "kafka: no brokers");
    o.brokers = "127.0.0.1:9";
    o.topic.clear();
    EXPECT_EQ(make_kafka_sink(o, kOrigin).error(), "kafka: no topic");
}

struct Shape {
    KafkaFormat format;
    std::size_t message_records;
};

class KafkaSinkDelivers : public testing::TestWithParam<Shape> {};

TEST_P(KafkaSinkDelivers, EveryRecordOnceInSourceOrder)
{
    MockCluster cluster(3, kTopic, kPartitions);
    auto o = options_for(cluster, GetParam().format);
    o.message_records = GetParam().message_records;
    Runner runner(make(o));
    ASSERT_TRUE(runner.sink);
    EXPECT_EQ(runner.sink->kind(), "kafka");

    std::map<std::uint16_t, std::uint64_t> seq;
    for (std::uint64_t id = 1; id <= 40; ++id)
        runner.send(make_batch(id, 4, 25, id % 3 == 0 ? 1 : 0, seq));
    EXPECT_TRUE(runner.sink->flush(10s));
    EXPECT_TRUE(runner.spool.empty());

    const auto* counters = kafka_counters(*runner.sink);
    ASSERT_NE(counters, nullptr);
    EXPECT_EQ(counters->records_acked.get(), total(seq));
    EXPECT_EQ(counters->records_failed.get(), 0u);
    EXPECT_EQ(counters->refused.get(), 0u);

    const auto got = consume(cluster.bootstraps(), kTopic, kPartitions, o.format, total(seq), 15s);
    EXPECT_EQ(got.items, total(seq));
    EXPECT_EQ(got.replayed, 0u);
    expect_all_once_in_order(got, seq);
}

INSTANTIATE_TEST_SUITE_P(Shapes, KafkaSinkDelivers,
                         testing::Values(Shape{KafkaFormat::Binary, 0}, Shape{KafkaFormat::Binary, 7},
                                         Shape{KafkaFormat::Json, 0}, Shape{KafkaFormat::Json, 10}),
                         [](const testing::TestParamInfo<Shape>& shape) {
                             return std::string(shape.param.format == KafkaFormat::Json ? "Json" : "Binary") +
                                    std::to_string(shape.param.message_records);
                         });

TEST(KafkaSink, OutageHandsBackAndRedeliveryLosesNothing)
{
    MockCluster cluster(3, kTopic, kPartitions);
    Runner runner(make(options_for(cluster, KafkaFormat::Binary, {"message.timeout.ms=3000"})));
    ASSERT_TRUE(runner.sink);
    std::map<std::uint16_t, std::uint64_t> seq;
    for (std::uint64_t id = 1; id <= 10; ++id)
        runner.send(make_batch(id, 3, 20, 1, seq));
    ASSERT_TRUE(runner.sink->flush(10s));
    const std::size_t before = total(seq);

    // The brokers go away with batches on their way: librdkafka takes them, they time out, and
    // come back through undelivered.
    cluster.set_all_down(true);
    for (std::uint64_t id = 11; id <= 15; ++id)
        ASSERT_TRUE(runner.sink->deliver(make_batch(id, 3, 20, 1, seq)).ok());
    const std::size_t in_flight = total(seq) - before;
    EXPECT_TRUE(tick_until(*runner.sink, [&] { return runner.spooled_items() == in_flight; }, 15s));
    EXPECT_TRUE(tick_until(*runner.sink, [&] { return !runner.sink->ready(); }, 10s));
    const auto* counters = kafka_counters(*runner.sink);
    EXPECT_EQ(counters->records_failed.get(), in_flight);
    EXPECT_GE(counters->brokers_down.get(), 1u);

    // While down, the runner spools instead of delivering.
    for (std::uint64_t id = 16; id <= 20; ++id)
        runner.send(make_batch(id, 3, 20, 1, seq));
    EXPECT_EQ(runner.spooled_items(), total(seq) - before);

    // Back: ready() as soon as one broker is; the others reconnect within a second or two, and
    // a message for a partition whose leader is not back yet may time out again, come back, and
    // be replayed once more, as the runner does.
    cluster.set_all_down(false);
    int rounds = 0;
    while (!runner.spool.empty() && rounds++ < 4) {
        ASSERT_TRUE(tick_until(*runner.sink, [&] { return runner.sink->ready(); }, 15s));
        runner.replay();
        runner.sink->flush(15s);
    }
    EXPECT_TRUE(runner.spool.empty());
    EXPECT_EQ(counters->records_acked.get(), total(seq));
    EXPECT_EQ(counters->records_lost.get(), 0u);

    const auto got = consume(cluster.bootstraps(), kTopic, kPartitions, KafkaFormat::Binary, total(seq), 15s);
    EXPECT_EQ(got.items, total(seq));
    EXPECT_EQ(got.replayed, total(seq) - before);
    if (rounds == 1)
        expect_all_once_in_order(got, seq);
    else
        expect_all_once(got, seq); // a second failure may put a later batch first
}

TEST(KafkaSink, FullQueueRefusesOrHandsBackTheRest)
{
    MockCluster cluster(1, kTopic, kPartitions);
    cluster.set_all_down(true);
    Runner runner(make(options_for(cluster, KafkaFormat::Binary, {"queue.buffering.max.messages=1"})));
    ASSERT_TRUE(runner.sink);
    std::map<std::uint16_t, std::uint64_t> seq;
    const Batch first = make_batch(1, 1, 10, 0, seq);
    const Batch second = make_batch(2, 1, 10, 0, seq);
    ASSERT_TRUE(runner.sink->deliver(first).ok());
    const auto refused = runner.sink->deliver(second);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().find("Queue full"), std::string::npos) << refused.error();
    runner.spool.push_back(second);
    EXPECT_EQ(kafka_counters(*runner.sink)->refused.get(), 1u);

    cluster.set_all_down(false);
    ASSERT_TRUE(runner.sink->flush(10s));
    runner.replay();
    ASSERT_TRUE(runner.sink->flush(10s));

    // Two sources, two messages, room for one: the first is taken, the second handed back.
    const Batch third = make_batch(3, 2, 10, 0, seq);
    cluster.set_all_down(true);
    ASSERT_TRUE(tick_until(*runner.sink, [&] { return !runner.sink->ready(); }, 10s));
    ASSERT_TRUE(runner.sink->deliver(third).ok());
    runner.sink->tick();
    ASSERT_EQ(runner.spool.size(), 1u);
    EXPECT_EQ(runner.spool[0].records.size(), 10u);
    EXPECT_EQ(runner.spool[0].id, 3u);
    cluster.set_all_down(false);
    ASSERT_TRUE(tick_until(*runner.sink, [&] { return runner.sink->ready(); }, 15s));
    ASSERT_TRUE(runner.sink->flush(10s));
    runner.replay();
    ASSERT_TRUE(runner.sink->flush(10s));

    const auto got = consume(cluster.bootstraps(), kTopic, kPartitions, KafkaFormat::Binary, total(seq), 15s);
    EXPECT_EQ(got.items, total(seq));
    expect_all_once_in_order(got, seq);
}

TEST(KafkaSink, RejectedProducesComeBackThroughUndelivered)
{
    MockCluster cluster(1, kTopic, kPartitions);
    Runner runner(make(options_for(cluster, KafkaFormat::Json, {"message.timeout.ms=3000"})));
    ASSERT_TRUE(runner.sink);
    std::map<std::uint16_t, std::uint64_t> seq;
    runner.send(make_batch(1, 2, 5, 0, seq));
    ASSERT_TRUE(runner.sink->flush(10s));

    // The broker refuses the next produce requests for good (not a retriable error).
    rd_kafka_mock_push_request_errors(cluster.get(), 0 /* Produce */, 2,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    for (std::uint64_t id = 2; id <= 6; ++id)
        runner.send(make_batch(id, 2, 5, 0, seq));
    const auto* counters = kafka_counters(*runner.sink);
    EXPECT_TRUE(tick_until(
        *runner.sink,
        [&] { return counters->records_acked.get() + counters->records_failed.get() == total(seq); }, 15s));
    EXPECT_GT(counters->records_failed.get(), 0u);
    EXPECT_EQ(runner.spooled_items(), counters->records_failed.get());

    ASSERT_TRUE(tick_until(*runner.sink, [&] { return runner.sink->ready(); }, 10s));
    runner.replay();
    ASSERT_TRUE(runner.sink->flush(10s));
    EXPECT_EQ(counters->records_lost.get(), 0u);

    const auto got = consume(cluster.bootstraps(), kTopic, kPartitions, KafkaFormat::Json, total(seq), 15s);
    EXPECT_EQ(got.items, total(seq));
    // Per source, what failed arrives after what did not: each source's set, exactly once.
    expect_all_once(got, seq);
}


TEST(KafkaSink, FatalProducerErrorRestartsTheProducerAndHandsBack)
{
    MockCluster cluster(1, kTopic, kPartitions);
    Runner runner(make(options_for(cluster, KafkaFormat::Binary)));
    ASSERT_TRUE(runner.sink);
    std::map<std::uint16_t, std::uint64_t> seq;
    runner.send(make_batch(1, 2, 5, 0, seq));
    ASSERT_TRUE(runner.sink->flush(10s));

    // A sequence the broker does not expect breaks the idempotent producer's guarantee: fatal.
    rd_kafka_mock_push_request_errors(cluster.get(), 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    for (std::uint64_t id = 2; id <= 4; ++id)
        runner.send(make_batch(id, 2, 5, 0, seq));
    const auto* counters = kafka_counters(*runner.sink);
    EXPECT_TRUE(tick_until(
        *runner.sink,
        [&] {
            return counters->producer_restarts.get() == 1 &&
                   counters->records_acked.get() + runner.spooled_items() == total(seq);
        },
        15s));
    ASSERT_TRUE(tick_until(*runner.sink, [&] { return runner.sink->ready(); }, 10s));
    runner.replay();
    ASSERT_TRUE(runner.sink->flush(10s));
    EXPECT_EQ(counters->records_lost.get(), 0u);
    EXPECT_EQ(counters->records_acked.get(), total(seq));

    const auto got = consume(cluster.bootstraps(), kTopic, kPartitions, KafkaFormat::Binary, total(seq), 15s);
    EXPECT_EQ(got.items, total(seq));
    expect_all_once(got, seq);
}

TEST(KafkaSink, WithStatisticsOffReadyProbesOncePerSecond)
{
    MockCluster cluster(1, kTopic, kPartitions);
    Runner runner(make(options_for(cluster, KafkaFormat::Binary, {"statistics.interval.ms=0"})));
    ASSERT_TRUE(runner.sink);
    std::map<std::uint16_t, std::uint64_t> seq;
    runner.send(make_batch(1, 1, 5, 0, seq));
    ASSERT_TRUE(runner.sink->flush(10s));

    cluster.set_all_down(true);
    ASSERT_TRUE(tick_until(*runner.sink, [&] { return !runner.sink->ready(); }, 10s));
    int probes = 0;
    const auto until = std::chrono::steady_clock::now() + 2500ms;
    while (std::chrono::steady_clock::now() < until) {
        probes += runner.sink->ready() ? 1 : 0;
        runner.sink->tick();
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_GE(probes, 2);
    EXPECT_LE(probes, 3);

    // Back: the next probe's batch is acknowledged, and that alone makes the sink ready again.
    cluster.set_all_down(false);
    ASSERT_TRUE(tick_until(*runner.sink, [&] { return runner.sink->ready(); }, 5s));
    ASSERT_TRUE(runner.sink->deliver(make_batch(2, 1, 5, 0, seq)).ok()); // the probe
    ASSERT_TRUE(tick_until(
        *runner.sink, [&] { return kafka_counters(*runner.sink)->records_acked.get() == total(seq); }, 15s));
    EXPECT_TRUE(runner.sink->ready());
    EXPECT_TRUE(runner.sink->ready()); // not a probe any more: up
    EXPECT_TRUE(runner.spool.empty());
}

TEST(KafkaSink, DestroyedWithMessagesQueuedHandsThemBack)
{
    MockCluster cluster(1, kTopic, kPartitions);
    cluster.set_all_down(true);
    Runner runner(make(options_for(cluster, KafkaFormat::Json)));
    ASSERT_TRUE(runner.sink);
    std::map<std::uint16_t, std::uint64_t> seq;
    const Batch b = make_batch(1, 2, 3, 1, seq);
    ASSERT_TRUE(runner.sink->deliver(b).ok());
    EXPECT_FALSE(runner.sink->flush(200ms));
    runner.sink.reset();
    EXPECT_EQ(runner.spooled_items(), b.size());
    std::map<std::uint16_t, std::vector<std::uint64_t>> back;
    for (const Batch& piece : runner.spool) {
        EXPECT_EQ(piece.id, 1u);
        for (const auto& r : piece.records)
            back[r.source].push_back(r.seq);
        for (const auto& e : piece.events)
            back[kControlSource].push_back(e.seq);
    }
    const std::map<std::uint16_t, std::vector<std::uint64_t>> want{
        {0, {1, 2, 3}}, {1, {1, 2, 3}}, {kControlSource, {1}}};
    EXPECT_EQ(back, want);
}

} // namespace
} // namespace idpath::mirror
