#pragma once
/// An in-memory SourcePort (controlplane/replication/table_port.hpp) for replication tests: a
/// table of handle -> encoded values, a journal, homed prefixes, admin key values, and a digest
/// over its records. Header-only; any thread (one mutex).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/journal/journal_format.hpp"
#include "controlplane/replication/dump_order.hpp"
#include "controlplane/replication/repl_wire.hpp"
#include "controlplane/replication/table_port.hpp"
#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::replication::testing {

/// One encoded handle record: `count` values back to back, as the table holds them.
struct FakeRecord {
    std::uint32_t count = 0;
    std::vector<std::uint8_t> encoded;
    bool operator==(const FakeRecord&) const = default;
};

/// `values` encoded as the table holds them.
inline FakeRecord encode_record(const std::vector<wire::HandleValue>& values)
{
    FakeRecord r;
    for (const auto& v : values) {
        std::vector<std::uint8_t> buf(wire::encoded_size(v));
        ByteWriter w(buf);
        wire::encode_value(w, v);
        r.encoded.insert(r.encoded.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(w.size()));
        ++r.count;
    }
    return r;
}

/// A record of one URL value (index 1) and, with `with_email`, an EMAIL value (index 2).
inline FakeRecord simple_record(const std::string& url, bool with_email = false)
{
    std::vector<wire::HandleValue> values;
    wire::HandleValue v;
    v.index = 1;
    v.timestamp = 1700000000;
    v.type = "URL";
    v.data.assign(url.begin(), url.end());
    values.push_back(v);
    if (with_email) {
        v.index = 2;
        v.type = "EMAIL";
        const std::string mail = "ops@example.org";
        v.data.assign(mail.begin(), mail.end());
        values.push_back(v);
    }
    return encode_record(values);
}

class FakeSource : public SourcePort {
public:
    // Filled by the test before the server uses it (or under lock() afterwards).
    std::map<std::string, FakeRecord> records;
    std::vector<journal::Entry> journal;              // consecutive txn ids, ascending
    std::vector<std::string> homed;                   // "88.100.1"
    std::map<std::pair<std::string, std::uint32_t>, std::vector<std::uint8_t>> admin_values;
    std::size_t piece_count = 4; // a power of two; a test may change it between dumps (a reload)
    bool force_redump = false; // read_txns reports the range uncovered whatever it is
    /// Called as visit() starts, without the lock: a test that changes the table mid-dump.
    std::function<void(std::size_t piece)> before_visit;

    std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }

    /// Adds `n` records "<prefix>/h<i>" and one journal entry (Create) for each.
    void populate(const std::string& prefix, int n, std::int64_t date_ms = 1700000000000)
    {
        for (int i = 0; i < n; ++i) {
            const std::string h = prefix + "/h" + std::to_string(i);
            records[h] = simple_record("https://example.org/" + std::to_string(i), i % 3 == 0);
            journal::Entry e;
            e.txn_id = journal.empty() ? 1 : journal.back().txn_id + 1;
            e.date_ms = date_ms + i;
            e.action = journal::Action::Create;
            e.handle = h;
            e.value_count = records[h].count;
            e.values = records[h].encoded;
            journal.push_back(std::move(e));
        }
    }

    std::uint64_t last_txn() override
    {
        std::lock_guard g(mu_);
        return journal.empty() ? 0 : journal.back().txn_id;
    }
    std::size_t pieces() override
    {
        std::lock_guard g(mu_);
        return piece_count;
    }
    void visit(std::size_t i,
               const std::function<void(std::string_view, std::uint32_t, ByteSpan)>& f) override
    {
        if (before_visit)
            before_visit(i);
        std::lock_guard g(mu_);
        // The pieces are hash ranges, as the table's shards (the SourcePort contract); the map's
        // order is not the dump's, so the writer's sorting is exercised.
        for (const auto& [handle, rec] : records)
            if (dump_piece_of(dump_hash(handle), piece_count) == i)
                f(handle, rec.count, rec.encoded);
    }
    std::vector<std::string> homed_prefixes() override
    {
        std::lock_guard g(mu_);
        return homed;
    }
    Result<bool, std::string> read_txns(std::uint64_t after,
                                        const std::function<bool(const journal::Entry&)>& f) override
    {
        std::lock_guard g(mu_);
        const std::uint64_t last = journal.empty() ? 0 : journal.back().txn_id;
        const std::uint64_t first = journal.empty() ? last + 1 : journal.front().txn_id;
        if (force_redump || after > last || after + 1 < first)
            return false;
        for (const auto& e : journal)
            if (e.txn_id > after && !f(e))
                break;
        return true;
    }
    SyncDigest digest(const ShardFilter& shard) override
    {
        std::lock_guard g(mu_);
        SyncDigest d;
        d.txn_id = journal.empty() ? 0 : journal.back().txn_id;
        d.buckets.assign(64, 0);
        d.bucket_records.assign(64, 0);
        for (const auto& [handle, rec] : records) {
            if (!shard.contains(handle))
                continue;
            std::uint64_t h = 1469598103934665603ull; // FNV-1a over handle and values
            for (char c : handle)
                h = (h ^ static_cast<std::uint8_t>(c)) * 1099511628211ull;
            for (std::uint8_t b : rec.encoded)
                h = (h ^ b) * 1099511628211ull;
            d.buckets[h % 64] += h;
            ++d.bucket_records[h % 64];
            ++d.records;
        }
        return d;
    }
    std::vector<std::uint8_t> value_data(std::string_view handle, std::uint32_t index) override
    {
        std::lock_guard g(mu_);
        auto it = admin_values.find({std::string(handle), index});
        return it == admin_values.end() ? std::vector<std::uint8_t>{} : it->second;
    }

private:
    std::mutex mu_;
};

} // namespace idpath::replication::testing
