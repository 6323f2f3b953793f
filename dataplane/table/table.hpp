#pragma once
/// The identifier table: a hash table from normalised handle to its values, pre-encoded
/// in wire form, plus the set of prefixes this node homes (DESIGN.md section 4).
///
/// Layout (layout.hpp). The table is split into a power-of-two number of shards by the top bits
/// of a 64-bit XXH3 hash of the key (~64 Ki records per shard). Each shard has an
/// open-addressing array of 64-octet buckets of eight 8-octet (tag, offset) slots, and an arena
/// of records: header, key, ValueEntry array, encoded values. A lookup is one hash, one bucket
/// line (rarely the next: the load is at most 0.8 at build) and one record, whose first line
/// holds the key. RecordView spans point into the arena: no per-record heap allocation. A build
/// puts every shard's buckets in one block and every arena in another (huge pages, buffer.hpp).
///
/// Generations (DESIGN.md section 4). Lookups never allocate, lock or wait. Updates come from
/// one writer thread: a new or changed record is appended to its shard's arena and published by
/// one atomic slot store (a deletion leaves a tombstone); a shard without room, or with too many
/// tombstones, is rebuilt compacted into new memory and published by one atomic pointer store.
/// Replaced memory is handed back as Retired, freed by the caller after a grace period (every
/// reader passed a quiescent state), as DPDK's lock-free rte_hash with QSBR does.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/table/buffer.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::table {

/// Offset of the permissions octet within an encoded value (index 4, timestamp 4, ttl type 1,
/// ttl 4), just before the type.
inline constexpr std::size_t kValuePermissionsOffset = wire::kValueTypeOffset - 1;

/// Where one value sits in its record's encoded blob: 8 octets. What filters need (index,
/// permissions, type) is read from the encoded value itself, which the table holds anyway.
struct ValueEntry {
    std::uint32_t offset = 0; // of the encoded value within RecordView::encoded
    std::uint32_t length = 0; // of the encoded value

    std::uint32_t index(ByteSpan encoded) const noexcept { return load_be32(encoded.data() + offset); }
    /// wire::perm bits.
    std::uint8_t permissions(ByteSpan encoded) const noexcept { return encoded[offset + kValuePermissionsOffset]; }
    /// The value's type octets, inside `encoded`.
    ByteSpan type(ByteSpan encoded) const noexcept
    {
        const std::size_t at = offset + wire::kValueTypeOffset;
        return encoded.subspan(at + 4, load_be32(encoded.data() + at));
    }
};

/// A handle's values: entries in index order and all values encoded back to back. Spans point
/// into the table, valid as long as the Table lives.
struct RecordView {
    std::span<const ValueEntry> values;
    ByteSpan encoded;
    bool all_public_read = true; // every value has PUBLIC_READ: unfiltered answers copy `encoded`
};

/// Hashes std::string and std::string_view alike, so lookups take a view without allocating.
struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// The 64-bit hash of a normalised key the table is indexed by (XXH3-64, seed 0).
std::uint64_t key_hash(std::string_view key) noexcept;

struct EncodedRecord;

/// Where a table's writer puts memory it replaced: freed by the caller once no reader can hold
/// it (after a grace period: Reclaimer::synchronize(), rte_rcu_qsbr_synchronize()).
using Retired = std::vector<std::shared_ptr<const void>>;

/// One shard as laid out in memory (layout.hpp): what a snapshot stores and restores.
struct ShardImage {
    std::uint32_t bucket_count = 0;
    std::uint32_t records = 0;    // live records
    std::uint32_t tombstones = 0; // deleted slots still in the buckets
    std::uint64_t value_bytes = 0;   // encoded values of the live records
    std::uint64_t garbage_bytes = 0; // arena octets of replaced or deleted records
    ByteSpan buckets; // bucket_count x 64 octets
    ByteSpan arena;   // the used part: offset 0 up to the end of the last record
};

class Table {
public:
    /// Lookups find_burst() overlaps at a time: the worker's burst.
    static constexpr std::size_t kBurst = 32;

    Table();
    ~Table();
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;

    // --- Readers: any thread, hot path; never allocate, lock or wait. ---------------------

    /// The record of a normalised handle, or nullopt.
    std::optional<RecordView> find(std::string_view key) const noexcept;
    /// find() of every key, out[i] for keys[i] (out.size() >= keys.size()). Groups of kBurst keys
    /// are hashed, their bucket lines prefetched, probed, their records prefetched, then compared,
    /// so the cache misses of a group overlap. Same answers as find().
    void find_burst(std::span<const std::string_view> keys, std::span<std::optional<RecordView>> out) const noexcept;
    /// True when this node homes (is responsible for) the normalised prefix.
    bool homes(std::string_view prefix) const noexcept;

    // --- Figures: any thread (relaxed; exact on the writer's thread). -----------------------

    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
    /// Bytes of encoded values held by live records.
    std::size_t value_bytes() const noexcept { return value_bytes_.load(std::memory_order_relaxed); }
    /// Bytes of bucket arrays and record arenas: memory_bytes() - value_bytes() is the overhead.
    std::size_t memory_bytes() const noexcept { return memory_bytes_.load(std::memory_order_relaxed); }
    std::size_t shard_count() const noexcept { return std::size_t{1} << shard_bits_; }
    unsigned shard_bits() const noexcept { return shard_bits_; }

    // --- The writer: one thread at a time (the control plane serialises it). ----------------
    // Readers never wait for it: a record is laid out in free arena space, then its slot is
    // switched with one atomic store; a shard without room is rebuilt into new memory and
    // switched by pointer. What readers may still hold goes to `retired`. A RecordView from
    // before a change stays valid until the caller frees what the change retired.

    /// Inserts or replaces the record of `rec`'s key.
    void upsert(const EncodedRecord& rec, Retired& retired);
    /// Removes the record of a normalised key; false when there is none.
    bool erase(std::string_view key, Retired& retired);
    /// Marks a normalised prefix homed or not.
    void home(std::string_view prefix, Retired& retired);
    void unhome(std::string_view prefix, Retired& retired);
    /// Rebuilds every shard whose garbage exceeds `fraction` of its arena: a compaction pass for
    /// a quiet moment (snapshots call it with 0 to store no garbage).
    void compact(double fraction, Retired& retired);

    std::size_t homed_count() const noexcept;
    std::vector<std::string> homed_prefixes() const;
    /// Shard `i` as laid out now. Writer thread (the views change with the next update).
    ShardImage shard_image(std::size_t i) const noexcept;
    /// Rebuilds of a shard that ran out of room (writer figures).
    std::uint64_t shard_rebuilds() const noexcept { return shard_rebuilds_; }

    /// Internal to dataplane/table (shard.hpp).
    struct Shard;

private:
    friend class TableBuilder;
    friend class TableAssembler;
    using HomedSet = std::unordered_set<std::string, KeyHash, std::equal_to<>>;

    const Shard& shard_of(std::uint64_t hash) const noexcept;
    /// Probes `shard` for `key` from bucket `bucket`, slot `slot` on.
    static std::optional<RecordView> probe(const Shard& shard, std::string_view key, std::uint64_t hash,
                                           std::uint32_t bucket, unsigned slot) noexcept;
    /// Replaces shard `s` by a compacted copy with room for `extra_records` more records and
    /// `extra_bytes` more arena octets.
    void rebuild(std::size_t s, std::size_t extra_records, std::size_t extra_bytes, Retired& retired);
    void set_homed(std::unique_ptr<HomedSet> next, Retired& retired);
    /// Adopts `shard` as shard `s` (construction, rebuilds); the old one goes to `retired`.
    void install(std::size_t s, std::shared_ptr<Shard> shard, Retired* retired);
    /// memory_bytes_ from the blocks the shards use now (each shared block once).
    void recount_memory() noexcept;

    // shards_[i] is what readers follow; owners_[i] keeps it alive for the writer.
    std::unique_ptr<std::atomic<const Shard*>[]> shards_;
    std::vector<std::shared_ptr<Shard>> owners_;
    unsigned shard_bits_ = 0;
    std::atomic<const HomedSet*> homed_{nullptr};
    std::shared_ptr<const HomedSet> homed_owner_;
    std::atomic<std::size_t> size_{0};
    std::atomic<std::size_t> value_bytes_{0};
    std::atomic<std::size_t> memory_bytes_{0};
    std::uint64_t shard_rebuilds_ = 0;
};

/// A handle's record laid out as the table stores it, ready to copy in. Made by
/// encode_record() on any thread, so an import encodes in parallel and adds in order.
struct EncodedRecord {
    std::vector<std::uint8_t> bytes;
    std::uint64_t hash = 0; // key_hash(key())
    std::size_t value_bytes = 0;

    std::string_view key() const noexcept;
};

enum class RecordError : std::uint8_t {
    HandleTooLong,  // over wire::kMaxHandleLength octets
    TooManyValues,  // over wire::kMaxValues
    DuplicateIndex, // two values share an index
    TooLarge,       // values of 4 GiB or more encoded
};
std::string_view to_string(RecordError e) noexcept;

/// Normalises `handle`, sorts `values` by index (answers are deterministic and index filters
/// binary-search), encodes them and lays the record out. Pure; any thread.
Result<EncodedRecord, RecordError> encode_record(std::string_view handle, std::vector<wire::HandleValue> values);

/// Fills a Table from shard images (a snapshot): the constructor lays out every shard's memory
/// (two blocks for all, as a build does), the caller copies each shard's octets into buckets(s)
/// and arena(s), from several threads if it likes (distinct shards), and finish() checks every
/// shard's structure (slots inside the arena, records inside their bounds, counts as declared)
/// so that no input, however crafted, can make a lookup read outside the table.
class TableAssembler {
public:
    /// `shapes` gives, per shard, every ShardImage field but the spans (arena.size() is taken
    /// from `arena_bytes`). Throws std::bad_alloc when the memory is not there.
    TableAssembler(unsigned shard_bits, std::span<const ShardImage> shapes, std::span<const std::uint64_t> arena_bytes);
    ~TableAssembler();

    std::span<std::uint8_t> buckets(std::size_t s) noexcept;
    std::span<std::uint8_t> arena(std::size_t s) noexcept;
    void home(std::string_view normalised_prefix);
    /// Structure check of shard `s` after its octets are in; any thread, distinct shards.
    /// The error says what is wrong ("shard 3: slot 17 points past the arena").
    Result<bool, std::string> check(std::size_t s) const;
    /// The table; call once every shard passed check().
    std::shared_ptr<Table> finish() &&;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Builds a Table: add() stages each record, already laid out, in large chunks; build() picks the
/// shard count from the size and copies the records into their shards in the order they were
/// added, so the same adds give the same table. Control thread only.
class TableBuilder {
public:
    TableBuilder();
    ~TableBuilder();
    TableBuilder(TableBuilder&&) noexcept;
    TableBuilder& operator=(TableBuilder&&) noexcept;

    /// Adds a handle (normalised here). Values are sorted by index and encoded. Returns false
    /// when the handle is already present, two values share an index, or the record is beyond
    /// the table's limits (a handle over wire::kMaxHandleLength octets, over wire::kMaxValues
    /// values, values of 4 GiB or more encoded).
    bool add(std::string_view handle, std::vector<wire::HandleValue> values);
    /// Adds a record encode_record() made; false when its handle is already present.
    bool add(EncodedRecord rec);
    /// Marks a prefix (normalised here) as homed by this node.
    void home(std::string_view prefix);
    bool contains(std::string_view handle) const;
    std::size_t size() const noexcept;

    /// The table; the builder is empty afterwards.
    std::shared_ptr<Table> build() &&;

private:
    struct Staging;
    std::unique_ptr<Staging> staging_;
};

} // namespace idpath::table
