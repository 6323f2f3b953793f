#include "controlplane/replication/repl_client.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "controlplane/crypto/signature.hpp"
#include "controlplane/log/log.hpp"
#include "controlplane/replication/client_backoff.hpp"
#include "controlplane/replication/client_round.hpp"
#include "controlplane/replication/dump_order.hpp"
#include "controlplane/replication/repl_state.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::replication {

using client::FailureKind;
using client::RoundError;
using Clock = std::chrono::steady_clock;

namespace {

/// A txn pull applies what it buffered only at the end record, so a stream that breaks midway
/// changes nothing. A primary far ahead could send more than fits in memory: every this many
/// transactions the batch is applied and the state advanced (a break after that resumes from
/// the last applied id: the transactions are whole, only the pull is split).
constexpr std::size_t kMaxBufferedTxns = 1'000'000;

/// Resume requests for one broken dump before it starts over: each waits the normal backoff,
/// and a stream that keeps breaking must not keep a staged table forever.
constexpr int kMaxDumpResumes = 16;
/// Resumed streams in a row that did not move the resume point before starting over: the
/// upstream cannot resume from there (a 9.x primary whose storage cannot ends the stream after
/// its header; one that resends from the start breaks at the same place again).
constexpr int kMaxIdleResumes = 2;

std::int64_t unix_now()
{
    return static_cast<std::int64_t>(std::time(nullptr));
}

const char* kind_name(FailureKind k)
{
    switch (k) {
    case FailureKind::Connect: return "connect";
    case FailureKind::Auth: return "auth";
    case FailureKind::Stream: return "stream";
    case FailureKind::Timeout: return "timeout";
    case FailureKind::Local: return "local";
    }
    return "?";
}

struct Counters {
    std::uint64_t rounds = 0;
    std::uint64_t dumps = 0;
    std::uint64_t dump_resumes = 0;
    std::uint64_t txns_applied = 0;
    std::uint64_t records_refused = 0;
    std::uint64_t auth_failures = 0;
    std::uint64_t stream_errors = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t connect_failures = 0;
};

/// Reads the stream in chunks and hands every decoded item, verified when the stream is in
/// signed blocks, to `on_item`; stops when `on_item` returns false (the end record).
template <class Decoder, class Item, class OnItem>
Result<void, RoundError> pump(client::Reply& reply, const ClientOptions& o, Decoder& dec, OnItem&& on_item)
{
    std::vector<std::uint8_t> buf(64 * 1024);
    for (;;) {
        Item item;
        for (;;) {
            const std::uint64_t at = dec.offset(); // where the item and its block start
            auto more = dec.next(item);
            if (!more)
                return Err(RoundError{FailureKind::Stream, more.error(), 0});
            if (!*more)
                break;
            if (reply.signed_blocks) {
                const SignedBlock& b = dec.last_block();
                // Only the dump's final 0xff is unsigned; on_item sees it and stops.
                if (b.present && !crypto::verify(o.upstream_key, reply.hash_id, b.data, b.signature))
                    return Err(RoundError{FailureKind::Stream,
                                          "bad block signature at offset " + std::to_string(at), 0});
            }
            auto go_on = on_item(item);
            if (!go_on)
                return Err(go_on.error());
            if (!*go_on)
                return {};
        }
        auto n = reply.stream->read_some(buf, o.io_timeout_ms);
        if (!n)
            return Err(client::stream_error(n.error()));
        if (*n == 0)
            return Err(RoundError{FailureKind::Stream,
                                  "stream ended before its end record at offset " + std::to_string(dec.offset()), 0});
        dec.feed(ByteSpan(buf.data(), *n));
    }
}

/// A dump whose stream broke after records were staged (docs/replication.md, "Resuming a broken
/// dump"): the sink keeps them, and the next round asks for what comes after the last one.
struct PendingDump {
    bool active = false; // records staged in the sink
    DumpInfo first;      // the first response's position: the txn pull replays from there
    bool have_info = false;
    std::string last; // the last staged handle, or prefix handle once in the 02 part
    std::uint32_t last_type = kResumeHandle;
    std::uint64_t handles = 0, homed = 0, refused = 0;
    int resumes = 0;      // resume requests sent for this dump
    int idle_resumes = 0; // resumed streams in a row that did not move `last`
};

/// Whether a dump that failed with `e` may go on where it stopped: not after the upstream
/// refused us (authentication, a response code) or our own side failed.
bool resumable(const RoundError& e)
{
    return e.rc == 0 && (e.kind == FailureKind::Stream || e.kind == FailureKind::Timeout ||
                         e.kind == FailureKind::Connect);
}

} // namespace

struct ReplicationClient::Impl {
    Impl(ClientOptions o, SinkPort& s) : options(std::move(o)), sink(s), upstream_text(options.upstream.to_string()) {}

    ClientOptions options;
    SinkPort& sink;
    const std::string upstream_text;
    client::Canceller round_cancel; // the thread's rounds
    client::Canceller admin_cancel; // sync_status_json's round
    std::mutex admin_mutex;         // one sync_status_json at a time (admin_cancel holds one socket)

    mutable std::mutex mutex; // guards everything below
    std::condition_variable wake;
    bool stopping = false;
    bool wake_requested = false;
    std::thread thread;

    ReplState state;
    bool need_dump = true;
    std::string phase = "idle";
    std::string last_error;
    std::int64_t last_success_unix = 0;
    int consecutive_failures = 0;
    Clock::time_point next_attempt{};
    Counters counters;

    PendingDump pending; // the round thread's only
    std::mt19937_64 rng{std::random_device{}()};

    void set_phase(const char* p)
    {
        std::lock_guard lock(mutex);
        phase = p;
    }

    ReplState state_copy() const
    {
        std::lock_guard lock(mutex);
        return state;
    }

    /// The file first, so status shows a position once a restart would resume from it. The
    /// table holds what was applied whether or not the file could be written: the next pull
    /// goes on from there (a restart from the older file replays transactions the table has,
    /// which converges as every transaction carries the record's whole state).
    Result<void, RoundError> save(const ReplState& s)
    {
        auto w = write_state(options.state_file, s);
        {
            std::lock_guard lock(mutex);
            state = s;
        }
        if (!w)
            return Err(RoundError{FailureKind::Local, w.error(), 0});
        return {};
    }

    StreamLimits limits(const client::Reply& reply) const
    {
        StreamLimits l;
        l.signed_blocks = reply.signed_blocks;
        return l;
    }

    /// Drops a staged dump: the next dump starts from scratch.
    void forget_dump(const std::string& why)
    {
        if (!pending.active)
            return;
        sink.dump_abort();
        if (!why.empty())
            log::warning("replication: dump from ", upstream_text, " starts over: ", why);
        pending = PendingDump{};
    }

    /// A dump round that failed with `e`; `opened`: the stream had started; `from`: the resume
    /// point the round began at.
    void dump_failed(const RoundError& e, bool opened, const std::string& from, std::uint32_t from_type)
    {
        if (!pending.active)
            return;
        // Progress is a resume point that moved: an upstream resending from the start moves nothing.
        if (opened && pending.resumes > 0)
            pending.idle_resumes =
                pending.last == from && pending.last_type == from_type ? pending.idle_resumes + 1 : 0;
        if (!resumable(e))
            forget_dump(e.message);
        else if (pending.handles + pending.homed == 0)
            forget_dump("");
        else if (pending.resumes >= kMaxDumpResumes)
            forget_dump(std::to_string(kMaxDumpResumes) + " resumes did not finish it");
        else if (pending.idle_resumes >= kMaxIdleResumes)
            forget_dump(std::to_string(kMaxIdleResumes) + " resumes in a row did not get past '" + pending.last + "'");
    }

    Result<void, RoundError> dump()
    {
        set_phase("connecting");
        const bool resuming = pending.active;
        DumpHandlesRequest req;
        req.shard = options.shard;
        if (resuming) {
            req.starting_point = pending.last;
            req.starting_point_type = pending.last_type;
            ++pending.resumes;
            {
                std::lock_guard lock(mutex);
                ++counters.dump_resumes;
            }
            log::info("replication: resuming the dump from ", upstream_text, " after '", pending.last, "' (",
                      pending.handles, " handles, ", pending.homed, " prefixes staged; resume ", pending.resumes,
                      " of ", kMaxDumpResumes, ")");
        }
        const std::string from = pending.last;
        const std::uint32_t from_type = pending.last_type;
        auto reply = client::authenticated_request(options, static_cast<std::uint32_t>(wire::OpCode::DumpHandles),
                                                   encode_dump_handles_request(req), true, round_cancel);
        if (!reply) {
            dump_failed(reply.error(), false, from, from_type);
            return Err(reply.error());
        }
        set_phase("dumping");

        // Staged off the serving table from here: only the end record commits it.
        if (!resuming) {
            sink.dump_begin();
            pending = PendingDump{};
            pending.active = true;
        }
        DumpStreamDecoder dec(limits(*reply));
        auto on_item = [&](DumpItem& item) -> Result<bool, RoundError> {
            if (auto* h = std::get_if<DumpHandle>(&item)) {
                ++pending.handles;
                // A handle seen twice (an upstream that ignored the starting point) is staged once.
                if (!sink.dump_add(h->handle, h->values.count, h->values.encoded))
                    ++pending.refused;
                pending.last = std::move(h->handle);
                pending.last_type = kResumeHandle;
            } else if (auto* p = std::get_if<DumpHomedPrefix>(&item)) {
                ++pending.homed;
                sink.dump_home(prefix_from_prefix_handle(p->prefix_handle));
                pending.last = std::move(p->prefix_handle);
                pending.last_type = kResumeNa;
            } else if (auto* i = std::get_if<DumpInfo>(&item)) {
                if (!resuming) {
                    pending.first = *i;
                    pending.have_info = true;
                } else if (pending.have_info && i->last_txn_id < pending.first.last_txn_id) {
                    // Only an upstream that ignored the starting point sends a position on a
                    // resume; one behind the first means its journal went back (restored,
                    // replaced), so what was staged may hold records it no longer has.
                    const std::string why = "the upstream went back from txn " +
                                            std::to_string(pending.first.last_txn_id) + " to " +
                                            std::to_string(i->last_txn_id) + " between two parts of the dump";
                    forget_dump(why);
                    return Err(RoundError{FailureKind::Stream, why, 0});
                }
                // A later position is ignored: the pull replays from the first, the smallest.
            } else if (std::holds_alternative<DumpDone>(item)) {
                return false;
            }
            return true;
        };
        if (auto r = pump<DumpStreamDecoder, DumpItem>(*reply, options, dec, on_item); !r) {
            dump_failed(r.error(), true, from, from_type);
            return Err(r.error());
        }
        reply->stream.reset();
        const PendingDump done = std::move(pending);
        pending = PendingDump{};
        auto committed = sink.dump_commit();
        if (!committed) {
            sink.dump_abort();
            return Err(RoundError{FailureKind::Local, "dump commit: " + committed.error(), 0});
        }
        if (!done.have_info)
            log::warning("replication: dump from ", upstream_text,
                         " carried no transaction position; the next pull starts at txn 0");
        log::info("replication: dump from ", upstream_text, ": ", done.handles, " handles, ", done.homed,
                  " homed prefixes, ", done.refused, " refused", committed->detail.empty() ? "" : "; ",
                  committed->detail, "; at txn ", done.first.last_txn_id,
                  done.resumes ? "; resumes: " + std::to_string(done.resumes) : std::string());
        {
            std::lock_guard lock(mutex);
            ++counters.dumps;
            counters.records_refused += done.refused + committed->refused;
            need_dump = false;
        }
        ReplState s;
        s.upstream = upstream_text;
        s.shard = options.shard;
        s.last_txn_id = done.first.last_txn_id;
        s.last_query_date_ms = done.first.date_ms;
        s.last_dump_unix = unix_now();
        return save(s);
    }

    Result<std::uint64_t, RoundError> apply(std::vector<journal::Entry>& batch, ReplState& s,
                                            std::optional<std::int64_t> next_query_date)
    {
        if (batch.empty() && !next_query_date)
            return std::uint64_t{0};
        const std::uint64_t last = batch.empty() ? s.last_txn_id : batch.back().txn_id;
        std::uint64_t applied = 0;
        if (!batch.empty()) {
            auto r = sink.apply(batch);
            if (!r)
                return Err(RoundError{FailureKind::Local, "applying transactions: " + r.error(), 0});
            applied = r->applied;
            std::lock_guard lock(mutex);
            counters.txns_applied += r->applied;
            counters.records_refused += r->refused;
            if (r->refused)
                log::warning("replication: ", r->refused, " transactions from ", upstream_text, " refused: ", r->detail);
        }
        batch.clear();
        s.last_txn_id = last;
        if (next_query_date)
            s.last_query_date_ms = *next_query_date;
        if (auto w = save(s); !w)
            return Err(w.error());
        return applied;
    }

    /// One txn pull; true when the upstream asks for a redump.
    Result<bool, RoundError> pull()
    {
        set_phase("connecting");
        ReplState s = state_copy();
        RetrieveTxnRequest req;
        req.mode = 0;
        req.last_txn_id = s.last_txn_id;
        req.last_query_date_ms = s.last_query_date_ms;
        req.shard = options.shard;
        auto reply = client::authenticated_request(options, static_cast<std::uint32_t>(wire::OpCode::RetrieveTxnLog),
                                                   encode_retrieve_txn_request(req), true, round_cancel);
        if (!reply)
            return Err(reply.error());
        set_phase("pulling");

        TxnStreamDecoder dec(limits(*reply));
        std::vector<journal::Entry> batch;
        std::uint64_t last = s.last_txn_id;
        std::uint64_t applied = 0;
        bool redump = false;
        auto on_item = [&](TxnItem& item) -> Result<bool, RoundError> {
            if (auto* h = std::get_if<TxnStreamHeader>(&item)) {
                if (h->status == kStatusNeedToRedump) {
                    redump = true;
                    return false;
                }
                if (h->status != kStatusSendingTransactions)
                    return Err(RoundError{FailureKind::Stream, "unknown txn stream status " + std::to_string(h->status), 0});
                return true;
            }
            if (auto* t = std::get_if<TxnRecord>(&item)) {
                if (t->txn_id <= last)
                    return Err(RoundError{FailureKind::Stream,
                                          "transaction " + std::to_string(t->txn_id) + " after " + std::to_string(last) +
                                              " at offset " + std::to_string(dec.offset()),
                                          0});
                last = t->txn_id;
                // research7: unconfirmed: a HANDLE.NET primary names the prefix of a HOME/UNHOME
                // transaction by its NA handle ("0.NA/88.100.1"); journal::Entry holds the prefix.
                if (t->action == journal::Action::Home || t->action == journal::Action::Unhome)
                    t->handle = prefix_from_prefix_handle(t->handle);
                batch.push_back(std::move(*t));
                if (batch.size() >= kMaxBufferedTxns) {
                    auto a = apply(batch, s, std::nullopt);
                    if (!a)
                        return Err(a.error());
                    applied += *a;
                }
                return true;
            }
            const auto& end = std::get<TxnEnd>(item);
            auto a = apply(batch, s, end.date_ms);
            if (!a)
                return Err(a.error());
            applied += *a;
            return false;
        };
        if (auto r = pump<TxnStreamDecoder, TxnItem>(*reply, options, dec, on_item); !r)
            return Err(r.error());
        if (redump) {
            log::info("replication: ", upstream_text, " cannot send transactions after ", s.last_txn_id,
                      "; dumping");
            std::lock_guard lock(mutex);
            need_dump = true;
            return true;
        }
        if (applied)
            log::info("replication: applied ", applied, " transactions from ", upstream_text, " up to txn ",
                      s.last_txn_id);
        return false;
    }

    void count_failure(const RoundError& e)
    {
        // Under mutex (the caller's).
        switch (e.kind) {
        case FailureKind::Connect: ++counters.connect_failures; break;
        case FailureKind::Auth: ++counters.auth_failures; break;
        case FailureKind::Stream: ++counters.stream_errors; break;
        case FailureKind::Timeout: ++counters.timeouts; break;
        case FailureKind::Local: break;
        }
    }

    void run()
    {
        rounds();
        // Stopped: a staged dump dies with the thread (a restart dumps again).
        forget_dump("");
    }

    void rounds()
    {
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait_until(lock, next_attempt, [&] { return stopping || wake_requested || Clock::now() >= next_attempt; });
            if (stopping)
                return;
            wake_requested = false;
            const bool dumping = need_dump;
            ++counters.rounds;
            lock.unlock();

            Result<void, RoundError> outcome{};
            bool redump = false;
            if (dumping) {
                outcome = dump();
            } else if (auto p = pull(); !p) {
                outcome = Err(p.error());
            } else {
                redump = *p;
            }

            lock.lock();
            if (outcome) {
                consecutive_failures = 0;
                last_error.clear();
                last_success_unix = unix_now();
                phase = "idle";
                next_attempt = redump ? Clock::now() : Clock::now() + std::chrono::milliseconds(options.interval_ms);
                continue;
            }
            if (stopping)
                return;
            const RoundError& e = outcome.error();
            count_failure(e);
            ++consecutive_failures;
            last_error = e.message;
            phase = "backoff";
            const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            const int delay =
                backoff_delay_ms(consecutive_failures, options.backoff_min_ms, options.backoff_max_ms, jitter);
            next_attempt = Clock::now() + std::chrono::milliseconds(delay);
            log::warning("replication: ", dumping ? "dump" : "txn pull", " from ", upstream_text, " failed (",
                         kind_name(e.kind), "): ", e.message, "; retry in ", delay, " ms");
        }
    }
};

ReplicationClient::ReplicationClient(ClientOptions options, SinkPort& sink)
    : impl_(std::make_unique<Impl>(std::move(options), sink))
{
}

ReplicationClient::~ReplicationClient()
{
    stop();
}

Result<void, std::string> ReplicationClient::start(bool resume)
{
    Impl& d = *impl_;
    if (d.thread.joinable())
        return Err(std::string("replication client already running"));
    auto saved = read_state(d.options.state_file);
    if (!saved)
        return Err(saved.error());
    {
        std::lock_guard lock(d.mutex);
        d.stopping = false;
        d.wake_requested = false;
        d.consecutive_failures = 0;
        d.phase = "idle";
        d.next_attempt = Clock::now();
        const bool usable = resume && *saved && (*saved)->upstream == d.upstream_text &&
                            (*saved)->shard == d.options.shard;
        if (usable) {
            d.state = **saved;
            d.need_dump = false;
        } else {
            if (resume && *saved)
                log::info("replication: state in ", d.options.state_file.string(),
                          " is for another upstream or shard; dumping from ", d.upstream_text);
            d.state = ReplState{};
            d.state.upstream = d.upstream_text;
            d.state.shard = d.options.shard;
            d.need_dump = true;
        }
    }
    d.round_cancel.reset();
    d.admin_cancel.reset();
    d.thread = std::thread([&d] { d.run(); });
    return {};
}

void ReplicationClient::stop()
{
    Impl& d = *impl_;
    {
        std::lock_guard lock(d.mutex);
        d.stopping = true;
    }
    d.wake.notify_all();
    d.round_cancel.cancel();
    d.admin_cancel.cancel();
    if (d.thread.joinable())
        d.thread.join();
    std::lock_guard lock(d.mutex);
    d.phase = "idle"; // a round cut short by stop() is not in progress any more
}

void ReplicationClient::sync_now()
{
    Impl& d = *impl_;
    {
        std::lock_guard lock(d.mutex);
        d.wake_requested = true;
    }
    d.wake.notify_all();
}

std::string ReplicationClient::status_json() const
{
    const Impl& d = *impl_;
    std::lock_guard lock(d.mutex);
    long long next_in = 0;
    if (d.phase == "idle" || d.phase == "backoff")
        next_in = std::max<long long>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(d.next_attempt - Clock::now()).count());
    const Counters& c = d.counters;
    const nlohmann::json j = {
        {"upstream", d.upstream_text},
        {"state", d.phase},
        {"last_txn_id", d.state.last_txn_id},
        {"last_query_date_ms", d.state.last_query_date_ms},
        {"last_success_unix", d.last_success_unix},
        {"last_error", d.last_error},
        {"consecutive_failures", d.consecutive_failures},
        {"next_attempt_in_ms", next_in},
        {"counters",
         {{"rounds", c.rounds},
          {"dumps", c.dumps},
          {"dump_resumes", c.dump_resumes},
          {"txns_applied", c.txns_applied},
          {"records_refused", c.records_refused},
          {"auth_failures", c.auth_failures},
          {"stream_errors", c.stream_errors},
          {"timeouts", c.timeouts},
          {"connect_failures", c.connect_failures}}},
    };
    return j.dump();
}

Result<std::string, std::string> ReplicationClient::sync_status_json()
{
    Impl& d = *impl_;
    std::lock_guard admin(d.admin_mutex);
    auto reply = client::authenticated_request(d.options, kOpSyncDigest, encode_sync_digest_request(d.options.shard),
                                               false, d.admin_cancel);
    if (!reply) {
        const RoundError& e = reply.error();
        if (e.rc == static_cast<std::uint32_t>(wire::ResponseCode::OperationNotSupported))
            return Err(std::string("upstream does not serve digests (rc 5)"));
        return Err("sync digest from " + d.upstream_text + ": " + e.message);
    }
    auto upstream = decode_sync_digest(reply->body);
    if (!upstream)
        return Err("sync digest from " + d.upstream_text + ": malformed: " + wire::to_string(upstream.error()));
    const SyncDigest local = d.sink.digest(d.options.shard);
    const std::uint64_t local_txn = d.state_copy().last_txn_id;

    nlohmann::json differing = nlohmann::json::array();
    const std::size_t n = std::max(upstream->buckets.size(), local.buckets.size());
    auto at = [](const std::vector<std::uint64_t>& v, std::size_t i) { return i < v.size() ? v[i] : 0; };
    for (std::size_t i = 0; i < n; ++i)
        if (at(upstream->buckets, i) != at(local.buckets, i) ||
            at(upstream->bucket_records, i) != at(local.bucket_records, i))
            differing.push_back(i);
    const bool equal = differing.empty() && upstream->records == local.records &&
                       upstream->buckets.size() == local.buckets.size();
    const nlohmann::json j = {
        {"upstream_txn_id", upstream->txn_id},
        {"local_txn_id", local_txn},
        {"equal", equal},
        {"in_sync", equal && upstream->txn_id == local_txn},
        {"differing_buckets", differing},
        {"records", {{"upstream", upstream->records}, {"local", local.records}}},
    };
    return j.dump();
}

} // namespace idpath::replication
