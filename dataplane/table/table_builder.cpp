// Laying records out (encode_record) and building a whole table from them (TableBuilder).
#include <algorithm>
#include <bit>
#include <cstring>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/table/handle_key.hpp"
#include "dataplane/table/layout.hpp"
#include "dataplane/table/shard.hpp"
#include "dataplane/table/table.hpp"

namespace idpath::table {

using namespace layout;

std::string_view to_string(RecordError e) noexcept
{
    switch (e) {
    case RecordError::HandleTooLong:
        return "handle too long";
    case RecordError::TooManyValues:
        return "too many values";
    case RecordError::DuplicateIndex:
        return "two values share an index";
    case RecordError::TooLarge:
        return "values too large";
    }
    return "?";
}

std::string_view EncodedRecord::key() const noexcept
{
    return bytes.size() < kHeaderSize ? std::string_view{} : key_at(bytes.data());
}

Result<EncodedRecord, RecordError> encode_record(std::string_view handle, std::vector<wire::HandleValue> values)
{
    if (handle.size() > wire::kMaxHandleLength)
        return Err{RecordError::HandleTooLong};
    if (values.size() > wire::kMaxValues)
        return Err{RecordError::TooManyValues};
    std::sort(values.begin(), values.end(),
              [](const wire::HandleValue& a, const wire::HandleValue& b) { return a.index < b.index; });
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i && values[i].index == values[i - 1].index)
            return Err{RecordError::DuplicateIndex};
        total += wire::encoded_size(values[i]);
    }
    if (total > UINT32_MAX)
        return Err{RecordError::TooLarge};

    const std::size_t entries = entries_at(handle.size());
    const std::size_t encoded = entries + values.size() * sizeof(ValueEntry);
    EncodedRecord rec;
    rec.bytes.assign(round_up(encoded + total, 4), 0); // padding too: the same input, the same octets
    std::uint8_t* p = rec.bytes.data();

    ByteWriter w({p + encoded, static_cast<std::size_t>(total)});
    bool all_public = true;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const auto& v = values[i];
        ValueEntry e;
        e.offset = static_cast<std::uint32_t>(w.size());
        wire::encode_value(w, v);
        e.length = static_cast<std::uint32_t>(w.size()) - e.offset;
        all_public = all_public && (v.permissions & wire::perm::kPublicRead);
        std::memcpy(p + entries + i * sizeof(ValueEntry), &e, sizeof e);
    }
    if (!w.ok() || w.size() != total)
        return Err{RecordError::TooLarge};
    const Header h{static_cast<std::uint32_t>(total), static_cast<std::uint16_t>(handle.size()),
                   static_cast<std::uint16_t>(values.size() | (all_public ? kAllPublicFlag : 0))};
    std::memcpy(p, &h, sizeof h);
    for (std::size_t i = 0; i < handle.size(); ++i) {
        const char c = handle[i];
        p[kHeaderSize + i] = static_cast<std::uint8_t>((c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c);
    }
    rec.hash = key_hash(rec.key());
    rec.value_bytes = total;
    return rec;
}

/// Records laid out as in a shard arena, back to back in chunks, in the order added; plus an
/// open-addressing index over them for duplicate checks.
struct TableBuilder::Staging {
    static constexpr std::size_t kChunkBytes = std::size_t{4} << 20;
    /// The first chunk's size; each next one doubles up to kChunkBytes. A builder of a few
    /// records (the recursive role lays out every upstream answer as a one-record table) then
    /// costs a heap block, not a 4 MiB mapping zeroed by page faults; a bulk import reaches full
    /// chunks after a few hundred KiB.
    static constexpr std::size_t kFirstChunkBytes = std::size_t{16} << 10;

    struct Staged {
        std::uint64_t hash;
        std::uint32_t chunk;
        std::uint32_t offset;
    };

    std::vector<Buffer> chunks; // growing to kChunkBytes; those mmap()ed return memory when freed
    std::size_t chunk_capacity = 0; // of the last chunk
    std::size_t next_chunk = kFirstChunkBytes;
    std::size_t chunk_used = 0;
    std::vector<Staged> records;
    std::vector<std::uint32_t> index; // record number + 1, 0 = empty; power-of-two size
    std::unordered_set<std::string, KeyHash, std::equal_to<>> homed;
    std::size_t value_bytes = 0;

    const std::uint8_t* record(const Staged& r) const noexcept { return chunks[r.chunk].data() + r.offset; }

    bool contains(std::string_view key, std::uint64_t hash) const noexcept
    {
        if (index.empty())
            return false;
        const std::size_t mask = index.size() - 1;
        for (std::size_t i = hash & mask; index[i]; i = (i + 1) & mask) {
            const Staged& r = records[index[i] - 1];
            if (r.hash == hash && key_matches(record(r), key))
                return true;
        }
        return false;
    }

    void index_last()
    {
        if ((records.size() + 1) * 2 > index.size()) {
            index.assign(std::max<std::size_t>(index.size() * 2, 1024), 0);
            for (std::uint32_t n = 0; n + 1 < records.size(); ++n)
                place(n);
        }
        place(static_cast<std::uint32_t>(records.size() - 1));
    }

    void place(std::uint32_t n) noexcept
    {
        const std::size_t mask = index.size() - 1;
        std::size_t i = records[n].hash & mask;
        while (index[i])
            i = (i + 1) & mask;
        index[i] = n + 1;
    }

    /// Room for `size` octets (a multiple of 4) at the end of the last chunk, a new one if needed.
    std::uint8_t* allocate(std::size_t size, Staged& where)
    {
        if (chunks.empty() || chunk_capacity - chunk_used < size) {
            chunk_capacity = std::max(size, next_chunk);
            next_chunk = std::min(next_chunk * 2, kChunkBytes);
            chunks.emplace_back(chunk_capacity);
            chunk_used = 0;
        }
        where.chunk = static_cast<std::uint32_t>(chunks.size() - 1);
        where.offset = static_cast<std::uint32_t>(chunk_used);
        chunk_used += size;
        return chunks.back().data() + where.offset;
    }
};

TableBuilder::TableBuilder() : staging_(std::make_unique<Staging>()) {}
TableBuilder::~TableBuilder() = default;
TableBuilder::TableBuilder(TableBuilder&&) noexcept = default;
TableBuilder& TableBuilder::operator=(TableBuilder&&) noexcept = default;

std::size_t TableBuilder::size() const noexcept
{
    return staging_->records.size();
}

bool TableBuilder::add(std::string_view handle, std::vector<wire::HandleValue> values)
{
    auto rec = encode_record(handle, std::move(values));
    return rec && add(std::move(*rec));
}

bool TableBuilder::add(EncodedRecord rec)
{
    if (rec.bytes.size() < kHeaderSize || staging_->contains(rec.key(), rec.hash))
        return false;
    Staging::Staged where{rec.hash, 0, 0};
    std::memcpy(staging_->allocate(rec.bytes.size(), where), rec.bytes.data(), rec.bytes.size());
    staging_->records.push_back(where);
    staging_->index_last();
    staging_->value_bytes += rec.value_bytes;
    return true;
}

void TableBuilder::home(std::string_view prefix)
{
    staging_->homed.insert(normalize(prefix));
}

bool TableBuilder::contains(std::string_view handle) const
{
    const std::string key = normalize(handle);
    return staging_->contains(key, key_hash(key));
}

std::shared_ptr<Table> TableBuilder::build() &&
{
    Staging st = std::move(*staging_);
    staging_ = std::make_unique<Staging>();
    std::vector<std::uint32_t>().swap(st.index);

    const std::size_t n = st.records.size();
    const std::size_t want = std::bit_ceil(std::max<std::size_t>((n + kShardRecords - 1) / kShardRecords, 1));
    const unsigned bits = std::min<unsigned>(static_cast<unsigned>(std::countr_zero(want)), kMaxShardBits);
    const std::size_t shards = std::size_t{1} << bits;

    // Size every shard, then copy the records in, freeing each staging chunk once copied.
    std::vector<ShardImage> shapes(shards);
    std::vector<std::uint64_t> arena_bytes(shards, kFirstRecord);
    for (const auto& r : st.records) {
        const std::size_t s = shard_index(r.hash, bits);
        const Header h = header_at(st.record(r));
        ++shapes[s].records;
        shapes[s].value_bytes += h.encoded_length;
        arena_bytes[s] += record_size(h);
    }
    for (std::size_t s = 0; s < shards; ++s)
        shapes[s].bucket_count = bucket_count_for(shapes[s].records);
    TableAssembler assembler(bits, shapes, arena_bytes);

    std::vector<std::size_t> cursor(shards, kFirstRecord);
    std::uint32_t chunk = 0;
    for (const auto& r : st.records) {
        while (chunk < r.chunk)
            st.chunks[chunk++] = Buffer();
        const std::uint8_t* src = st.record(r);
        const std::size_t size = record_size(header_at(src));
        const std::size_t s = shard_index(r.hash, bits);
        std::memcpy(assembler.arena(s).data() + cursor[s], src, size);

        auto* slots = reinterpret_cast<std::uint64_t*>(assembler.buckets(s).data());
        const std::size_t end = std::size_t{shapes[s].bucket_count} * kSlotsPerBucket;
        std::size_t i = std::size_t{bucket_of(r.hash, shapes[s].bucket_count)} * kSlotsPerBucket;
        while (slots[i])
            i = i + 1 == end ? 0 : i + 1;
        slots[i] = slot_for(r.hash, cursor[s]);
        cursor[s] += size;
    }
    for (const auto& p : st.homed)
        assembler.home(p);
    // Our own layout: no structure check needed (a snapshot's is checked).
    return std::move(assembler).finish();
}

} // namespace idpath::table
