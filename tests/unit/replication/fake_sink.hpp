#pragma once
/// An in-memory SinkPort for the replication client's tests: a map of handles to their values,
/// the homed prefixes, and what the client asked of it (dumps begun, committed, aborted;
/// transactions applied), all under one mutex since the client's thread calls it.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controlplane/replication/table_port.hpp"
#include "tests/unit/replication_server/fake_source.hpp"

namespace idpath::replication::testing {

using StoredRecord = FakeRecord;

using RecordMap = std::map<std::string, StoredRecord>;

class FakeSink : public SinkPort {
public:
    Result<ApplyResult, std::string> apply(std::vector<journal::Entry>& txns) override
    {
        std::lock_guard lock(mutex_);
        if (fail_apply)
            return Err(std::string("apply refused by the test"));
        ApplyResult r;
        for (const journal::Entry& e : txns) {
            switch (e.action) {
            case journal::Action::Create:
            case journal::Action::Update: records_[e.handle] = StoredRecord{e.value_count, e.values}; break;
            case journal::Action::Delete: records_.erase(e.handle); break;
            case journal::Action::Home: homed_.insert(e.handle); break;
            case journal::Action::Unhome: homed_.erase(e.handle); break;
            }
            applied_ids_.push_back(e.txn_id);
            ++r.applied;
        }
        ++applies_;
        return r;
    }

    void dump_begin() override
    {
        std::lock_guard lock(mutex_);
        ++dump_begins_;
        staged_.emplace();
        staged_homed_.clear();
    }

    bool dump_add(std::string_view handle, std::uint32_t count, ByteSpan encoded) override
    {
        std::lock_guard lock(mutex_);
        if (!staged_)
            return false;
        (*staged_)[std::string(handle)] = StoredRecord{count, {encoded.begin(), encoded.end()}};
        return true;
    }

    void dump_home(std::string_view prefix) override
    {
        std::lock_guard lock(mutex_);
        staged_homed_.insert(std::string(prefix));
    }

    Result<ApplyResult, std::string> dump_commit() override
    {
        std::lock_guard lock(mutex_);
        if (!staged_)
            return Err(std::string("dump_commit without dump_begin"));
        ApplyResult r;
        r.applied = staged_->size();
        records_ = std::move(*staged_);
        homed_ = std::move(staged_homed_);
        staged_.reset();
        staged_homed_.clear();
        ++dump_commits_;
        return r;
    }

    void dump_abort() override
    {
        std::lock_guard lock(mutex_);
        staged_.reset();
        staged_homed_.clear();
        ++dump_aborts_;
    }

    SyncDigest digest(const ShardFilter& shard) override
    {
        // FakeSource's digest over the same records, so equal tables compare equal.
        FakeSource same;
        {
            std::lock_guard lock(mutex_);
            same.records = records_;
        }
        return same.digest(shard);
    }

    RecordMap records() const
    {
        std::lock_guard lock(mutex_);
        return records_;
    }
    std::set<std::string> homed() const
    {
        std::lock_guard lock(mutex_);
        return homed_;
    }
    std::vector<std::uint64_t> applied_ids() const
    {
        std::lock_guard lock(mutex_);
        return applied_ids_;
    }
    int dump_begins() const
    {
        std::lock_guard lock(mutex_);
        return dump_begins_;
    }
    int dump_commits() const
    {
        std::lock_guard lock(mutex_);
        return dump_commits_;
    }
    int dump_aborts() const
    {
        std::lock_guard lock(mutex_);
        return dump_aborts_;
    }
    int applies() const
    {
        std::lock_guard lock(mutex_);
        return applies_;
    }
    /// Seeds the serving table directly (a node that already holds records).
    void put(const std::string& key, StoredRecord r)
    {
        std::lock_guard lock(mutex_);
        records_[key] = std::move(r);
    }

    std::atomic<bool> fail_apply{false};

private:
    mutable std::mutex mutex_;
    RecordMap records_;
    std::set<std::string> homed_;
    std::optional<RecordMap> staged_;
    std::set<std::string> staged_homed_;
    std::vector<std::uint64_t> applied_ids_;
    int dump_begins_ = 0;
    int dump_commits_ = 0;
    int dump_aborts_ = 0;
    int applies_ = 0;
};

} // namespace idpath::replication::testing
