#pragma once
/// The identifier table, version 0: a read-only hash map from normalised handle to its values,
/// pre-encoded in wire form, plus the set of prefixes this node homes.
///
/// Built once by TableBuilder on a control thread, then shared read-only by every serving thread.
/// find() and homes() never allocate or lock. (The sharded, RCU-published table of DESIGN.md
/// section 4 replaces the storage behind the same view types.)

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::table {

/// Where one value sits in its record's encoded blob, with what filters need.
struct ValueEntry {
    std::uint32_t index = 0;
    std::uint32_t offset = 0; // of the encoded value within RecordView::encoded
    std::uint32_t length = 0; // of the encoded value
    std::uint32_t type_length = 0;
    std::uint8_t permissions = 0;

    /// The value's type octets, inside `encoded`.
    ByteSpan type(ByteSpan encoded) const noexcept
    {
        return encoded.subspan(offset + wire::kValueTypeOffset + 4, type_length);
    }
};

/// A handle's values: entries in index order and all values encoded back to back.
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

class Table {
public:
    Table() = default;

    /// The record of a normalised handle, or nullptr.
    const RecordView* find(std::string_view key) const noexcept;
    /// True when this node homes (is responsible for) the normalised prefix.
    bool homes(std::string_view prefix) const noexcept;

    std::size_t size() const noexcept { return records_.size(); }
    std::size_t homed_count() const noexcept { return homed_.size(); }
    /// Bytes of encoded values held.
    std::size_t value_bytes() const noexcept { return value_bytes_; }
    std::vector<std::string> homed_prefixes() const;

private:
    friend class TableBuilder;
    struct Stored {
        std::vector<ValueEntry> entries;
        std::vector<std::uint8_t> encoded;
        RecordView view;
    };
    std::unordered_map<std::string, Stored, KeyHash, std::equal_to<>> records_;
    std::unordered_set<std::string, KeyHash, std::equal_to<>> homed_;
    std::size_t value_bytes_ = 0;
};

/// Builds a Table. Control plane only.
class TableBuilder {
public:
    /// Adds a handle (normalised here). Values are sorted by index and encoded. Returns false
    /// when the handle is already present or two values share an index.
    bool add(std::string_view handle, std::vector<wire::HandleValue> values);
    /// Marks a prefix (normalised here) as homed by this node.
    void home(std::string_view prefix);
    bool contains(std::string_view handle) const;
    std::size_t size() const noexcept { return table_->records_.size(); }

    std::shared_ptr<const Table> build() &&;

private:
    std::shared_ptr<Table> table_ = std::make_shared<Table>();
};

} // namespace idpath::table
