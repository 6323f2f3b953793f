#pragma once
/// The change journal's bytes (docs/operations.md, "Journal"): pure encode and decode over
/// spans, so the format is unit-tested and fuzzed without files.
///
/// File: a header, then entries back to back. Header version 2 (24 octets): magic "IDPJRNL1",
/// version u32 = 2, reserved u32 = 0, first txn u64 (the id its first entry has or will have: a
/// segment says where it starts even while empty). Version 1 (16 octets, the journals written
/// before segments) has no first txn: it starts at its first entry. Both are read; new files are
/// version 2. Entry: body length u32, its complement u32 (a damaged length is caught before it is
/// trusted), XXH3-64 of the body u64, body. Body: txn id u64 (from 1, consecutive), date in ms
/// since the epoch i64, action u8 (HANDLE.NET's numbers), handle length u16, handle, value count
/// u32, then for create/update the record's values encoded as the table holds them (timestamps
/// included), so a replay rebuilds the record exactly. All integers big-endian.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::journal {

/// HANDLE.NET's transaction actions (research/handle-protocol.md section 1.15).
enum class Action : std::uint8_t {
    Create = 1,
    Delete = 2,
    Update = 3,
    Home = 4,
    Unhome = 5,
};
std::string_view to_string(Action a) noexcept;

struct Entry {
    std::uint64_t txn_id = 0;
    std::int64_t date_ms = 0;
    Action action = Action::Create;
    std::string handle;                 // normalised key, or prefix for Home/Unhome
    std::uint32_t value_count = 0;      // create/update: values in `values`
    std::vector<std::uint8_t> values;   // create/update: RecordView::encoded, as the table holds it
};

/// The header of the version written (2), and of version 1.
inline constexpr std::size_t kFileHeaderBytes = 24;
inline constexpr std::size_t kFileHeaderV1Bytes = 16;
inline constexpr std::size_t kEntryHeaderBytes = 16;
/// An entry body larger than this is damage, not data: a record is far smaller.
inline constexpr std::uint32_t kMaxBodyBytes = 64u << 20;

/// The header a new journal file starts with, its first entry to be txn `first_txn`.
std::vector<std::uint8_t> file_header(std::uint64_t first_txn = 1);
/// Appends `e`'s bytes to `out`.
void encode_entry(const Entry& e, std::vector<std::uint8_t>& out);

/// What a scan of a whole journal found. Entries [header_bytes, valid_bytes) are whole and
/// checked; bytes after valid_bytes are a torn tail (a crash mid-append) to truncate.
struct ScanResult {
    std::uint64_t header_bytes = 0; // kFileHeaderBytes or kFileHeaderV1Bytes
    std::uint64_t start_txn = 0;    // the header's first txn; 0 for version 1 (none stated)
    std::uint64_t entries = 0;
    std::uint64_t first_txn = 0; // 0 when empty
    std::uint64_t last_txn = 0;  // 0 when empty
    std::uint64_t valid_bytes = 0;
    std::uint64_t torn_bytes = 0; // file size - valid_bytes
    bool header_missing = false;  // a file shorter than its header (torn at creation)
};

/// Checks every entry of `file` and calls `on_entry` (may be empty) for each in order. A tail
/// that a torn append explains (an entry cut short, the last entry failing its checksum, or
/// zeros to the end) is reported, not refused. Anything else (a bad header, a damaged entry
/// with entries after it, ids not consecutive or not starting at the header's first txn) is an
/// error naming the offset.
Result<ScanResult, std::string> scan_journal(ByteSpan file, const std::function<void(const Entry&)>& on_entry);
/// The same, also telling each entry's offset in `file` (where its length field starts): what
/// Journal's index of offsets is built from.
Result<ScanResult, std::string> scan_journal_at(ByteSpan file,
                                                const std::function<void(const Entry&, std::uint64_t offset)>& on_entry);

/// One entry decoded from the start of `bytes`.
struct Decoded {
    Entry entry;
    std::size_t bytes = 0; // consumed
};
enum class DecodeStatus : std::uint8_t { Ok, Short, Damaged };
/// Decodes the entry at the start of `bytes`: Short when `bytes` ends inside it, Damaged when
/// its length, checksum or body is inconsistent (`why` says which).
DecodeStatus decode_entry(ByteSpan bytes, Decoded& out, std::string& why);

/// Checks the file header; empty string when good.
std::string check_file_header(ByteSpan file);

} // namespace idpath::journal
