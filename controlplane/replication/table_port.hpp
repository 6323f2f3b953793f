#pragma once
/// What replication needs from the node (implemented by app/Daemon, faked in unit tests): the
/// upstream side reads the serving table and the journal; the mirror side applies what it
/// pulled, through the same generation/update path, journal and grace periods as every other
/// change. Implementations serialise with the table's writer; any thread may call.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/journal/journal_format.hpp"
#include "controlplane/replication/repl_wire.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::replication {

/// The upstream's view of the node.
class SourcePort {
public:
    virtual ~SourcePort() = default;
    /// The last journaled transaction id (0: none yet); what a dump reports as its lastTxnId.
    virtual std::uint64_t last_txn() = 0;
    /// How many pieces visit() splits the table into (its shards): a power of two, or 0 when
    /// there is no table. May change between calls (a reload).
    virtual std::size_t pieces() = 0;
    /// Calls `f` for every record of piece `i` (storage key, value count, encoded values as
    /// the table holds them), with the writer held for that piece only, so a long dump never
    /// stops updates for long. Changes after last_txn() taken before the dump reach the mirror
    /// through the transaction log. Piece i of pieces() holds exactly the keys whose
    /// dump_hash (dump_order.hpp) has i as its top log2(pieces()) bits, as the table's shards
    /// do: a dump sorts one piece at a time and is in dump order throughout.
    virtual void visit(std::size_t i,
                       const std::function<void(std::string_view key, std::uint32_t count, ByteSpan encoded)>& f) = 0;
    /// The prefixes the node homes ("88.100.1").
    virtual std::vector<std::string> homed_prefixes() = 0;
    /// Calls `f` for every journal entry with txn_id > `after`, in order; `f` returns false to
    /// stop. Returns false when the journal cannot cover that range (it starts later, or `after`
    /// is beyond its end): the mirror must redump.
    virtual Result<bool, std::string> read_txns(std::uint64_t after, const std::function<bool(const journal::Entry&)>& f) = 0;
    /// The content digest restricted to `shard`, and the txn id it was taken at (consistent:
    /// taken with the writer held).
    virtual SyncDigest digest(const ShardFilter& shard) = 0;
    /// The data of `handle`'s value at `index` in the serving table (an admin's HS_PUBKEY or
    /// HS_SECKEY when its key file is not configured); empty when absent.
    virtual std::vector<std::uint8_t> value_data(std::string_view handle, std::uint32_t index) = 0;
};

/// What a mirror does with what it pulled.
struct ApplyResult {
    std::uint64_t applied = 0;
    std::uint64_t refused = 0; // counted and logged (e.g. a record beyond the table's limits)
    std::string detail;        // for the log: "3 refused (invalid: 3)"
};

class SinkPort {
public:
    virtual ~SinkPort() = default;
    /// Applies transactions in order (journal::Entry as the stream carries it: create/update
    /// with the current values, delete, home, unhome), journaled and made durable before it
    /// returns. An error means nothing after the failing chunk was applied; the state is not
    /// advanced past what returned applied.
    virtual Result<ApplyResult, std::string> apply(std::vector<journal::Entry>& txns) = 0;
    /// Begins a full dump: records are staged off the serving table.
    virtual void dump_begin() = 0;
    /// Stages one dumped handle; false when the record is refused (counted). A handle staged
    /// already (a resumed dump from an upstream that sent it again) keeps its first version and
    /// is not refused: the transaction log pulled after the commit brings it up to date.
    virtual bool dump_add(std::string_view handle, std::uint32_t count, ByteSpan encoded) = 0;
    virtual void dump_home(std::string_view prefix) = 0;
    /// Serves the staged table in place of the current one (journaling the difference, so a
    /// restart replays to the same table). Only after the whole stream verified and ended.
    virtual Result<ApplyResult, std::string> dump_commit() = 0;
    /// Drops what was staged (a stream that failed): the serving table is untouched.
    virtual void dump_abort() = 0;
    /// This node's digest restricted to `shard`, for `sync status`.
    virtual SyncDigest digest(const ShardFilter& shard) = 0;
};

} // namespace idpath::replication
