#pragma once
/// The identifier table: a read-only hash table from normalised handle to its values, pre-encoded
/// in wire form, plus the set of prefixes this node homes (DESIGN.md section 4).
///
/// Layout. The table is split into a power-of-two number of shards by the top bits of a 64-bit
/// XXH3 hash of the key (the count is chosen from the size, ~64 Ki records per shard). Each shard
/// has:
///   - an open-addressing array of 64-octet buckets of eight 8-octet slots, each slot a 16-bit tag
///     (more bits of the same hash) and the 48-bit offset of a record in the shard's arena;
///   - a contiguous arena of records, each: an 8-octet header (encoded length, key length, value
///     count, all_public_read), the key, the ValueEntry array, then the encoded values, 4-aligned.
/// A lookup is one hash, one bucket line (rarely the next one: the load is at most 0.8) and one
/// record, whose first line holds the key. RecordView spans point into the arena: no per-record
/// heap allocation. Every shard's buckets, and every shard's arena, sit in one block each (huge
/// pages, see buffer.hpp); a shard only points into them, so a later step can rebuild one shard
/// into a block of its own.
///
/// Built once by TableBuilder on a control thread, then shared read-only by every serving thread.
/// find(), find_burst() and homes() never allocate or lock.

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

class Table {
public:
    /// Lookups find_burst() overlaps at a time: the worker's burst.
    static constexpr std::size_t kBurst = 32;

    Table() = default;

    /// The record of a normalised handle, or nullopt. Any thread; hot path.
    std::optional<RecordView> find(std::string_view key) const noexcept;
    /// find() of every key, out[i] for keys[i] (out.size() >= keys.size()). Groups of kBurst keys
    /// are hashed, their bucket lines prefetched, probed, their records prefetched, then compared,
    /// so the cache misses of a group overlap. Same answers as find(). Any thread; hot path.
    void find_burst(std::span<const std::string_view> keys, std::span<std::optional<RecordView>> out) const noexcept;
    /// True when this node homes (is responsible for) the normalised prefix.
    bool homes(std::string_view prefix) const noexcept;

    std::size_t size() const noexcept { return size_; }
    std::size_t homed_count() const noexcept { return homed_.size(); }
    /// Bytes of encoded values held.
    std::size_t value_bytes() const noexcept { return value_bytes_; }
    std::vector<std::string> homed_prefixes() const;
    std::size_t shard_count() const noexcept { return shards_.size(); }
    /// Bytes of bucket arrays and record arenas: memory_bytes() - value_bytes() is the overhead.
    std::size_t memory_bytes() const noexcept;

private:
    friend class TableBuilder;
    /// Points into blocks_: all shards' buckets share one block and all arenas another, so that
    /// both are large enough for huge pages; a later per-shard rebuild can point one shard at a
    /// block of its own.
    struct Shard {
        const std::uint64_t* buckets = nullptr; // bucket_count x 8 slots
        const std::uint8_t* arena = nullptr;    // records; offset 0 is never one (a 0 slot is empty)
        std::uint32_t bucket_count = 0;
    };

    const Shard& shard_of(std::uint64_t hash) const noexcept
    {
        // The top shard_bits_ bits; (h >> 48) >> 16 is 0 when there is one shard.
        return shards_[static_cast<std::size_t>((hash >> 48) >> (16 - shard_bits_))];
    }
    /// Probes `shard` for `key` from bucket `bucket`, slot `slot` on.
    static std::optional<RecordView> probe(const Shard& shard, std::string_view key, std::uint64_t hash,
                                           std::uint32_t bucket, unsigned slot) noexcept;

    std::vector<Shard> shards_;
    std::vector<Buffer> blocks_;
    unsigned shard_bits_ = 0;
    std::size_t size_ = 0;
    std::unordered_set<std::string, KeyHash, std::equal_to<>> homed_;
    std::size_t value_bytes_ = 0;
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
    /// Marks a prefix (normalised here) as homed by this node.
    void home(std::string_view prefix);
    bool contains(std::string_view handle) const;
    std::size_t size() const noexcept;

    /// The table; the builder is empty afterwards.
    std::shared_ptr<const Table> build() &&;

private:
    struct Staging;
    std::unique_ptr<Staging> staging_;
};

} // namespace idpath::table
