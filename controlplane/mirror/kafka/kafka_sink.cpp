#include "controlplane/mirror/kafka/kafka_sink.hpp"

#include <charconv>
#include <chrono>
#include <list>
#include <utility>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "controlplane/mirror/kafka/kafka_conf.hpp"
#include "controlplane/mirror/kafka/kafka_payload.hpp"

namespace idpath::mirror {

namespace {

using Clock = std::chrono::steady_clock;

/// How long deliver() lets librdkafka serve delivery reports when its queue is full, once,
/// before refusing: long enough for a report already due, short of stalling the runner.
constexpr int kQueueFullPollMs = 10;
/// Room left under message.max.bytes for the key and librdkafka's per-message framing.
constexpr std::size_t kMessageOverhead = 1024;
/// With statistics off, how often ready() lets a batch probe brokers that went down.
constexpr auto kProbeInterval = std::chrono::seconds(1);
/// Payload buffers kept for reuse (kafka_payload.hpp): a few batches' worth.
constexpr std::size_t kSparePayloads = 4;
/// Bound on waiting for the reports of purged messages (fatal error, destruction).
constexpr auto kDrainLimit = std::chrono::seconds(2);

struct ProducerDeleter {
    void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
struct TopicDeleter {
    void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
};

class KafkaSink final : public Sink {
public:
    KafkaSink(const KafkaSinkOptions& options, const Origin& origin, KafkaConf conf,
              std::size_t max_bytes, bool statistics)
        : options_(options), origin_(origin), conf_(std::move(conf)), max_bytes_(max_bytes),
          statistics_(statistics), key_(origin.node_id + "/")
    {
        rd_kafka_conf_set_opaque(conf_.get(), this);
        rd_kafka_conf_set_dr_msg_cb(conf_.get(), &KafkaSink::on_delivery);
        rd_kafka_conf_set_error_cb(conf_.get(), &KafkaSink::on_error);
        rd_kafka_conf_set_stats_cb(conf_.get(), &KafkaSink::on_stats);
    }

    /// Hands back, through undelivered, whatever librdkafka still holds (purged: call flush()
    /// first to deliver it instead).
    ~KafkaSink() override
    {
        stop();
        give_back();
    }

    KafkaSink(const KafkaSink&) = delete;
    KafkaSink& operator=(const KafkaSink&) = delete;

    /// Creates the producer (again, after a fatal error) from the configuration kept.
    Result<void, std::string> start()
    {
        char reason[512] = {};
        rd_kafka_conf_t* conf = rd_kafka_conf_dup(conf_.get());
        rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof reason);
        if (!rk) {
            rd_kafka_conf_destroy(conf);
            return Err("kafka producer: " + std::string(reason));
        }
        producer_.reset(rk);
        topic_.reset(rd_kafka_topic_new(rk, options_.topic.c_str(), nullptr));
        if (!topic_) {
            const std::string why = rd_kafka_err2str(rd_kafka_last_error());
            producer_.reset();
            return Err("kafka topic '" + options_.topic + "': " + why);
        }
        fatal_ = false;
        brokers_down_ = false;
        return {};
    }

    const KafkaSinkCounters& counters() const noexcept { return counters_; }

    std::string kind() const override { return "kafka"; }

    Result<void, std::string> deliver(const Batch& batch) override
    {
        if (fatal_ || !producer_) {
            counters_.refused.add();
            return Err("kafka: producer failed: " + last_error_);
        }
        Flight& f = flights_.emplace_back();
        f.self = std::prev(flights_.end());
        if (!spare_.empty()) {
            f.payload = std::move(spare_.back());
            spare_.pop_back();
        }
        cut_messages(batch, origin_, options_.format, options_.message_records, max_bytes_, f.payload);
        const std::size_t n = f.payload.pieces.size();
        f.messages.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            f.messages.push_back(Message{&f, i, true});
        // One more than the messages: this call's own hold, so that a report served by the
        // poll below cannot free the flight under it.
        f.outstanding = n + 1;

        for (std::size_t i = 0; i < n; ++i) {
            rd_kafka_resp_err_t err = produce(f.messages[i]);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(producer_.get(), kQueueFullPollMs);
                err = produce(f.messages[i]);
            }
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                continue;
            if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                // Never deliverable: spooling it would only replay it forever.
                counters_.records_lost.add(f.payload.pieces[i].items);
                last_error_ = rd_kafka_err2str(err);
                settle(f.messages[i]);
                continue;
            }
            if (i == 0) {
                // Nothing of this batch taken yet: refuse it whole, the runner spools it.
                for (std::size_t j = i; j < n; ++j)
                    f.messages[j].pending = false;
                f.outstanding = 1;
                release(f);
                counters_.refused.add();
                return Err("kafka: " + std::string(rd_kafka_err2str(err)));
            }
            // Part of the batch is queued: the rest goes back as undelivered.
            last_error_ = rd_kafka_err2str(err);
            for (std::size_t j = i; j < n; ++j) {
                hand_back(f, f.messages[j]);
                settle(f.messages[j]);
            }
            break;
        }
        release(f);
        return {};
    }

    void tick() override
    {
        if (producer_)
            rd_kafka_poll(producer_.get(), 0);
        if (fatal_)
            restart();
        give_back();
    }

    bool flush(std::chrono::milliseconds timeout) override
    {
        bool clean = false;
        if (producer_) {
            const rd_kafka_resp_err_t err =
                rd_kafka_flush(producer_.get(), static_cast<int>(timeout.count()));
            clean = err == RD_KAFKA_RESP_ERR_NO_ERROR && !fatal_;
        }
        if (fatal_)
            restart();
        clean = clean && returned_.empty();
        give_back();
        return clean;
    }

    bool ready() override
    {
        if (fatal_ || !producer_)
            return false;
        if (!brokers_down_)
            return true;
        if (statistics_)
            return false;
        const Clock::time_point now = Clock::now();
        if (now - last_probe_ < kProbeInterval)
            return false;
        last_probe_ = now;
        return true;
    }

private:
    struct Flight;

    /// A queued message: librdkafka's opaque for it, until its delivery report.
    struct Message {
        Flight* flight;
        std::size_t piece;
        bool pending; // no report yet
    };

    /// One deliver()'s messages and the payload they point into (librdkafka does not copy it),
    /// alive until the last report.
    struct Flight {
        Payload payload;
        std::vector<Message> messages;
        std::size_t outstanding = 0;
        std::list<Flight>::iterator self;
    };

    rd_kafka_resp_err_t produce(Message& m)
    {
        const Piece& p = m.flight->payload.pieces[m.piece];
        key_.resize(origin_.node_id.size() + 1);
        key_ += std::to_string(p.source);
        char* value = m.flight->payload.bytes.data() + p.offset;
        return rd_kafka_producev(producer_.get(), RD_KAFKA_V_RKT(topic_.get()),
                                 RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA), RD_KAFKA_V_MSGFLAGS(0),
                                 RD_KAFKA_V_VALUE(value, p.length),
                                 RD_KAFKA_V_KEY(key_.data(), key_.size()), RD_KAFKA_V_OPAQUE(&m),
                                 RD_KAFKA_V_END);
    }

    void settle(Message& m)
    {
        m.pending = false;
        --m.flight->outstanding;
    }

    void release(Flight& f)
    {
        if (--f.outstanding != 0)
            return;
        if (spare_.size() < kSparePayloads)
            spare_.push_back(std::move(f.payload));
        flights_.erase(f.self);
    }

    void hand_back(const Flight& f, const Message& m)
    {
        const Piece& p = f.payload.pieces[m.piece];
        auto b = piece_batch(f.payload, p, options_.format);
        if (!b) {
            counters_.records_lost.add(p.items);
            last_error_ = "undecodable message: " + b.error();
            return;
        }
        counters_.records_failed.add(p.items);
        returned_.push_back(std::move(*b));
    }

    /// Failed batches go back outside librdkafka's callbacks, from tick() and flush() only.
    void give_back()
    {
        std::vector<Batch> returned;
        returned.swap(returned_);
        for (Batch& b : returned) {
            if (undelivered)
                undelivered(std::move(b));
            else
                counters_.records_lost.add(b.size());
        }
    }

    void delivered(const rd_kafka_message_t& report)
    {
        Message& m = *static_cast<Message*>(report._private);
        Flight& f = *m.flight;
        if (report.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            counters_.records_acked.add(f.payload.pieces[m.piece].items);
            counters_.messages_acked.add();
            brokers_down_ = false;
        } else {
            last_error_ = rd_kafka_err2str(report.err);
            hand_back(f, m);
        }
        m.pending = false;
        release(f);
    }

    /// Purges what librdkafka holds, serves the reports (handing it back), destroys the producer.
    void stop()
    {
        if (producer_) {
            rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            const Clock::time_point until = Clock::now() + kDrainLimit;
            while (rd_kafka_outq_len(producer_.get()) > 0 && Clock::now() < until)
                rd_kafka_poll(producer_.get(), 10);
        }
        topic_.reset();
        producer_.reset();
        // Reports that never came: librdkafka no longer holds these messages.
        for (Flight& f : flights_)
            for (Message& m : f.messages)
                if (m.pending)
                    hand_back(f, m);
        flights_.clear();
    }

    void restart()
    {
        stop();
        if (auto r = start(); r)
            counters_.producer_restarts.add();
        else
            last_error_ = r.error();
    }

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque)
    {
        static_cast<KafkaSink*>(opaque)->delivered(*report);
    }

    static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque)
    {
        auto& self = *static_cast<KafkaSink*>(opaque);
        self.last_error_ = reason;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
            if (!self.brokers_down_)
                self.counters_.brokers_down.add();
            self.brokers_down_ = true;
        } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
            char why[512] = {};
            rd_kafka_fatal_error(rk, why, sizeof why);
            self.last_error_ = why;
            self.fatal_ = true;
        }
    }

    /// librdkafka's statistics: a broker (not its internal pseudo-broker) in state UP means
    /// the brokers are back.
    static int on_stats(rd_kafka_t*, char* json, std::size_t size, void* opaque)
    {
        auto& self = *static_cast<KafkaSink*>(opaque);
        if (!self.brokers_down_)
            return 0;
        const nlohmann::json stats = nlohmann::json::parse(json, json + size, nullptr, false);
        if (!stats.is_object())
            return 0;
        const auto brokers = stats.find("brokers");
        if (brokers == stats.end() || !brokers->is_object())
            return 0;
        for (const auto& broker : *brokers) {
            if (!broker.is_object())
                continue;
            const auto source = broker.find("source");
            const auto state = broker.find("state");
            if (source == broker.end() || state == broker.end() || !source->is_string() ||
                !state->is_string())
                continue;
            const auto& s = source->get_ref<const std::string&>();
            if (s != "internal" && s != "logical" && state->get_ref<const std::string&>() == "UP")
                self.brokers_down_ = false;
        }
        return 0; // librdkafka frees `json`
    }

    KafkaSinkOptions options_;
    Origin origin_;
    KafkaConf conf_;
    std::size_t max_bytes_;
    bool statistics_;
    std::unique_ptr<rd_kafka_t, ProducerDeleter> producer_;
    std::unique_ptr<rd_kafka_topic_t, TopicDeleter> topic_;
    std::list<Flight> flights_;
    /// Buffers of delivered flights, kept for the next: a batch's payload is megabytes, and
    /// fresh ones cost page faults and cold caches on every batch.
    std::vector<Payload> spare_;
    std::vector<Batch> returned_;
    std::string key_;
    std::string last_error_;
    bool brokers_down_ = false;
    bool fatal_ = false;
    Clock::time_point last_probe_{};
    KafkaSinkCounters counters_;
};

} // namespace

Result<std::unique_ptr<Sink>, std::string> make_kafka_sink(const KafkaSinkOptions& options,
                                                           const Origin& origin)
{
    auto conf = producer_conf(options);
    if (!conf)
        return Err(conf.error());
    const std::string max = conf_value(conf->get(), "message.max.bytes");
    std::size_t max_bytes = 0;
    std::from_chars(max.data(), max.data() + max.size(), max_bytes);
    max_bytes = max_bytes > 2 * kMessageOverhead + origin.node_id.size()
                    ? max_bytes - kMessageOverhead - origin.node_id.size()
                    : kMessageOverhead;
    const bool statistics = conf_value(conf->get(), "statistics.interval.ms") != "0";
    auto sink = std::make_unique<KafkaSink>(options, origin, std::move(*conf), max_bytes, statistics);
    if (auto started = sink->start(); !started)
        return Err(started.error());
    return std::unique_ptr<Sink>(std::move(sink));
}

const KafkaSinkCounters* kafka_counters(const Sink& sink) noexcept
{
    const auto* kafka = dynamic_cast<const KafkaSink*>(&sink);
    return kafka ? &kafka->counters() : nullptr;
}

} // namespace idpath::mirror
