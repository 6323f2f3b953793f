#include "controlplane/app/replication_ports.hpp"

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "controlplane/app/daemon.hpp"
#include "controlplane/app/table_updates.hpp"
#include "controlplane/journal/journal_table.hpp"
#include "controlplane/log/log.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/table_digest.hpp"
#include "dataplane/table/table_walk.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::app {
namespace {

/// Journal entries one scan collects: a long backlog is streamed in pieces of this many, each
/// read with the mutex held, sent without it.
constexpr std::size_t kTxnBatch = 65536;
/// Entries of a full dump's difference written to the journal per append (one fsync each).
constexpr std::size_t kDiffChunk = 65536;

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Stream handles are the upstream's storage keys; prefixes of home/unhome come as prefix
/// handles ("0.NA/88.100.1"). The table keys both normalised.
journal::Entry normalised(const journal::Entry& e)
{
    journal::Entry x = e;
    if (e.action == journal::Action::Home || e.action == journal::Action::Unhome)
        x.handle = table::normalize(replication::prefix_from_prefix_handle(e.handle));
    else
        x.handle = table::normalize(e.handle);
    return x;
}

replication::SyncDigest to_sync(const table::TableDigest& d, std::uint64_t txn)
{
    replication::SyncDigest s;
    s.txn_id = txn;
    s.records = d.records;
    s.buckets.assign(d.buckets.begin(), d.buckets.end());
    s.bucket_records.assign(d.bucket_records.begin(), d.bucket_records.end());
    return s;
}

} // namespace

// ---- the upstream side ------------------------------------------------------------------------

std::uint64_t ReplicationPorts::last_txn()
{
    const std::lock_guard lock(d_.mutex_);
    return d_.journal_ ? d_.journal_->last_txn() : 0;
}

std::size_t ReplicationPorts::pieces()
{
    const std::lock_guard lock(d_.mutex_);
    // Shards are ranges of key_hash's top bits (layout::shard_index): the pieces SourcePort asks for.
    return d_.table_ ? d_.table_->shard_count() : 0;
}

void ReplicationPorts::visit(std::size_t i,
                             const std::function<void(std::string_view, std::uint32_t, ByteSpan)>& f)
{
    const std::lock_guard lock(d_.mutex_);
    // A reload between two pieces may change the shard count: the dump then covers the new
    // generation from this piece on, and the transaction log brings the mirror level.
    if (!d_.table_ || i >= d_.table_->shard_count())
        return;
    table::for_each_record(*d_.table_, i, [&f](std::string_view key, const table::RecordView& view) {
        f(key, static_cast<std::uint32_t>(view.values.size()), view.encoded);
    });
}

std::vector<std::string> ReplicationPorts::homed_prefixes()
{
    const std::lock_guard lock(d_.mutex_);
    return d_.table_ ? d_.table_->homed_prefixes() : std::vector<std::string>{};
}

Result<bool, std::string> ReplicationPorts::read_txns(std::uint64_t after,
                                                      const std::function<bool(const journal::Entry&)>& f)
{
    std::uint64_t cursor = after;
    for (bool first = true;; first = false) {
        std::vector<journal::Entry> batch;
        {
            const std::lock_guard lock(d_.mutex_);
            if (!d_.journal_)
                return Err(std::string("no journal (data.journal) to serve transactions from"));
            // A mirror ahead of this journal, or behind the oldest txn retention kept (also when
            // it kept none: an empty journal past txn 1 cannot say what the mirror missed), needs
            // a dump.
            if (first && !d_.journal_->covers_after(after))
                return false;
            // Retention ran between two batches (the lock was not held while sending).
            if (cursor + 1 < d_.journal_->first_txn())
                return Err("journal: txns after " + std::to_string(cursor) +
                           " were deleted by retention while being sent; the next pull redumps");
            // Stops when the batch is full: a batch costs about its own entries' reading (the
            // journal starts at its index point before `cursor`), not the whole journal's.
            auto read = d_.journal_->read_after(cursor, [&batch](const journal::Entry& e) {
                batch.push_back(e);
                return batch.size() < kTxnBatch;
            });
            if (!read)
                return Err(read.error());
        }
        for (const auto& e : batch) {
            if (!f(e))
                return true;
            cursor = e.txn_id;
        }
        if (batch.size() < kTxnBatch)
            return true;
    }
}

replication::SyncDigest ReplicationPorts::digest(const replication::ShardFilter& shard)
{
    const std::lock_guard lock(d_.mutex_);
    table::TableDigest d;
    if (d_.table_)
        table::for_each_record(*d_.table_, [&](std::string_view key, const table::RecordView& view) {
            if (shard.contains(key))
                table::add_to_digest(d, key, view);
        });
    return to_sync(d, d_.journal_ ? d_.journal_->last_txn() : 0);
}

std::vector<std::uint8_t> ReplicationPorts::value_data(std::string_view handle, std::uint32_t index)
{
    const std::lock_guard lock(d_.mutex_);
    if (!d_.table_)
        return {};
    const auto rec = d_.table_->find(table::normalize(handle));
    if (!rec)
        return {};
    for (const auto& entry : rec->values) {
        if (entry.index(rec->encoded) != index)
            continue;
        ByteReader r(rec->encoded.subspan(entry.offset));
        auto v = wire::decode_value(r);
        if (!v)
            return {};
        return {v->data.begin(), v->data.end()};
    }
    return {};
}

// ---- the mirror side --------------------------------------------------------------------------

Result<replication::ApplyResult, std::string> ReplicationPorts::apply(std::vector<journal::Entry>& txns)
{
    replication::ApplyResult res;
    const std::lock_guard lock(d_.mutex_);
    if (!d_.table_)
        return Err(std::string("no table"));
    // Chunks as `idpathctl update` applies them: each chunk journaled (one fsync) and followed
    // by a grace period after which what it replaced is freed.
    for (std::size_t begin = 0; begin < txns.size(); begin += kUpdateChunk) {
        const std::size_t end = std::min(txns.size(), begin + kUpdateChunk);
        std::vector<journal::Entry> done;
        table::Retired retired;
        for (std::size_t i = begin; i < end; ++i) {
            journal::Entry e = normalised(txns[i]);
            if (auto r = journal::replay_entry(*d_.table_, e, retired); !r) {
                ++res.refused;
                last_refusal_ = r.error();
                log::warning("replication: upstream transaction refused: ", r.error());
                continue;
            }
            ++res.applied;
            done.push_back(std::move(e));
        }
        if (d_.journal_ && !done.empty())
            if (auto a = d_.journal_->append(done); !a) {
                d_.wait_for_readers();
                return Err(a.error() + " (a chunk applied in memory, not journaled)");
            }
        d_.wait_for_readers();
    }
    txns_applied_ += res.applied;
    txns_refused_ += res.refused;
    if (res.applied > 0) {
        ++d_.changes_;
        ++d_.updates_.batches;
        d_.post_event("table.update", {{"result", "ok"},
                                       {"source", "replication"},
                                       {"applied", std::to_string(res.applied)},
                                       {"refused", std::to_string(res.refused)}});
    }
    res.detail = std::to_string(res.applied) + " applied, " + std::to_string(res.refused) + " refused";
    return res;
}

void ReplicationPorts::dump_begin()
{
    staging_ = std::make_unique<table::TableBuilder>();
    staged_refused_ = 0;
}

bool ReplicationPorts::dump_add(std::string_view handle, std::uint32_t count, ByteSpan encoded)
{
    if (!staging_)
        return false;
    auto values = wire::decode_values(encoded, count);
    if (!values || !staging_->add(handle, std::move(*values))) {
        // Looked up only once add() refused: a resumed dump's upstream may resend what it sent
        // before the break (SinkPort::dump_add).
        if (values && staging_->contains(handle))
            return true;
        ++staged_refused_;
        log::warning("replication: dumped record refused (malformed or beyond the table's limits): ",
                     handle);
        return false;
    }
    return true;
}

void ReplicationPorts::dump_home(std::string_view prefix)
{
    if (staging_)
        staging_->home(prefix);
}

void ReplicationPorts::dump_abort()
{
    staging_.reset();
}

Result<replication::ApplyResult, std::string> ReplicationPorts::dump_commit()
{
    if (!staging_)
        return Err(std::string("no dump staged"));
    replication::ApplyResult res;
    res.applied = staging_->size();
    // Records refused while staging were counted by the client as dump_add() returned false.
    const std::uint64_t staged_refused = staged_refused_;
    // Built without the mutex: the serving table is untouched until the swap.
    std::shared_ptr<table::Table> next = std::move(*staging_).build();
    staging_.reset();

    const std::lock_guard lock(d_.mutex_);
    if (d_.journal_ && d_.table_) {
        // The journal records the difference, so replaying it over the last snapshot gives
        // this table: a restart resumes without another dump.
        const std::int64_t date = now_ms();
        std::vector<journal::Entry> diff;
        auto flush = [&]() -> Result<void, std::string> {
            if (diff.empty())
                return {};
            auto a = d_.journal_->append(diff);
            diff.clear();
            return a;
        };
        Result<void, std::string> appended;
        auto push = [&](journal::Entry e) {
            diff.push_back(std::move(e));
            if (diff.size() >= kDiffChunk && appended)
                appended = flush();
        };
        table::for_each_record(*d_.table_, [&](std::string_view key, const table::RecordView&) {
            if (!next->find(key))
                push(journal::Entry{0, date, journal::Action::Delete, std::string(key), 0, {}});
        });
        table::for_each_record(*next, [&](std::string_view key, const table::RecordView& view) {
            const auto cur = d_.table_->find(key);
            if (cur && std::equal(cur->encoded.begin(), cur->encoded.end(), view.encoded.begin(), view.encoded.end()))
                return;
            push(journal::Entry{0, date, cur ? journal::Action::Update : journal::Action::Create, std::string(key),
                                static_cast<std::uint32_t>(view.values.size()),
                                std::vector<std::uint8_t>(view.encoded.begin(), view.encoded.end())});
        });
        for (const auto& p : d_.table_->homed_prefixes())
            if (!next->homes(p))
                push(journal::Entry{0, date, journal::Action::Unhome, p, 0, {}});
        for (const auto& p : next->homed_prefixes())
            if (!d_.table_->homes(p))
                push(journal::Entry{0, date, journal::Action::Home, p, 0, {}});
        if (appended)
            appended = flush();
        if (!appended)
            return Err(appended.error() + " (journaling the dump; still serving the previous table)");
    }
    d_.publish(std::move(next));
    d_.table_source_ = "replication";
    ++d_.changes_;
    ++dumps_committed_;
    dump_records_refused_ += staged_refused;
    d_.post_event("table.update", {{"result", "ok"},
                                   {"source", "replication dump"},
                                   {"handles", std::to_string(res.applied)},
                                   {"refused", std::to_string(staged_refused)}});
    res.detail = std::to_string(res.applied) + " handles, " + std::to_string(staged_refused) + " refused";
    return res;
}

std::string ReplicationPorts::stats_json() const
{
    const nlohmann::json j{{"txns_applied", txns_applied_},
                           {"txns_refused", txns_refused_},
                           {"dumps_committed", dumps_committed_},
                           {"dump_records_refused", dump_records_refused_},
                           {"last_refusal", last_refusal_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_refusal_)}};
    return j.dump();
}

} // namespace idpath::app
