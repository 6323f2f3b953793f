#include "controlplane/journal/journal_format.hpp"

#include <algorithm>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dataplane/base/byte_append.hpp"

namespace idpath::journal {

namespace {

constexpr char kMagic[8] = {'I', 'D', 'P', 'J', 'R', 'N', 'L', '1'};
constexpr std::uint32_t kVersion = 2;
constexpr std::uint32_t kVersion1 = 1;
/// txn u64, date i64, action u8, handle length u16, value count u32.
constexpr std::size_t kFixedBody = 8 + 8 + 1 + 2 + 4;

bool valid_action(std::uint8_t a) noexcept { return a >= 1 && a <= 5; }

bool carries_values(Action a) noexcept { return a == Action::Create || a == Action::Update; }

bool all_zero(ByteSpan b) noexcept
{
    return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}

std::size_t header_bytes_of(std::uint32_t version) noexcept
{
    return version == kVersion1 ? kFileHeaderV1Bytes : kFileHeaderBytes;
}

/// A file shorter than its header that a crash while creating it explains: zeros, or the start
/// of a header of either version (magic, version, reserved zero; the first txn is not known
/// here).
bool torn_header(ByteSpan file) noexcept
{
    if (all_zero(file))
        return true;
    for (const std::uint32_t v : {kVersion1, kVersion}) {
        std::vector<std::uint8_t> head(kMagic, kMagic + sizeof kMagic);
        append_be32(head, v);
        append_be32(head, 0);
        const std::size_t n = std::min(file.size(), head.size());
        if (file.size() < header_bytes_of(v) && std::equal(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n), head.begin()))
            return true;
    }
    return false;
}

} // namespace

std::string_view to_string(Action a) noexcept
{
    switch (a) {
    case Action::Create: return "create";
    case Action::Delete: return "delete";
    case Action::Update: return "update";
    case Action::Home: return "home";
    case Action::Unhome: return "unhome";
    }
    return "unknown";
}

std::vector<std::uint8_t> file_header(std::uint64_t first_txn)
{
    // Sized up front: also keeps GCC 12's -O3 -Warray-bounds from a false alarm on the growth.
    std::vector<std::uint8_t> out;
    out.reserve(kFileHeaderBytes);
    out.insert(out.end(), kMagic, kMagic + sizeof kMagic);
    append_be32(out, kVersion);
    append_be32(out, 0);
    append_be64(out, first_txn);
    return out;
}

std::string check_file_header(ByteSpan file)
{
    if (file.size() < kFileHeaderV1Bytes)
        return "journal: header cut short";
    if (std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
        return "journal: not a journal (bad magic)";
    const std::uint32_t v = load_be32(file.data() + 8);
    if (v != kVersion && v != kVersion1)
        return "journal: version " + std::to_string(v) + " not supported";
    if (file.size() < header_bytes_of(v))
        return "journal: header cut short";
    if (v == kVersion && load_be64(file.data() + 16) == 0)
        return "journal: header's first txn is 0";
    return {};
}

void encode_entry(const Entry& e, std::vector<std::uint8_t>& out)
{
    std::vector<std::uint8_t> body;
    body.reserve(kFixedBody + e.handle.size() + e.values.size());
    append_be64(body, e.txn_id);
    append_be64(body, static_cast<std::uint64_t>(e.date_ms));
    body.push_back(static_cast<std::uint8_t>(e.action));
    body.push_back(static_cast<std::uint8_t>(e.handle.size() >> 8));
    body.push_back(static_cast<std::uint8_t>(e.handle.size()));
    body.insert(body.end(), e.handle.begin(), e.handle.end());
    append_be32(body, e.value_count);
    body.insert(body.end(), e.values.begin(), e.values.end());

    const auto len = static_cast<std::uint32_t>(body.size());
    append_be32(out, len);
    append_be32(out, ~len);
    append_be64(out, XXH3_64bits(body.data(), body.size()));
    out.insert(out.end(), body.begin(), body.end());
}

DecodeStatus decode_entry(ByteSpan bytes, Decoded& out, std::string& why)
{
    if (bytes.size() < kEntryHeaderBytes)
        return DecodeStatus::Short;
    const std::uint32_t len = load_be32(bytes.data());
    if (load_be32(bytes.data() + 4) != ~len) {
        why = "entry length damaged";
        return DecodeStatus::Damaged;
    }
    if (len < kFixedBody || len > kMaxBodyBytes) {
        why = "entry length " + std::to_string(len) + " out of range";
        return DecodeStatus::Damaged;
    }
    if (bytes.size() - kEntryHeaderBytes < len)
        return DecodeStatus::Short;
    const ByteSpan body = bytes.subspan(kEntryHeaderBytes, len);
    if (XXH3_64bits(body.data(), body.size()) != load_be64(bytes.data() + 8)) {
        why = "entry checksum mismatch";
        return DecodeStatus::Damaged;
    }
    // The checksum held: from here an inconsistency is a writer's bug, still refused.
    const std::uint8_t* p = body.data();
    Entry& e = out.entry;
    e.txn_id = load_be64(p);
    e.date_ms = static_cast<std::int64_t>(load_be64(p + 8));
    const std::uint8_t action = p[16];
    const std::size_t handle_len = load_be16(p + 17);
    if (!valid_action(action)) {
        why = "entry action " + std::to_string(action) + " unknown";
        return DecodeStatus::Damaged;
    }
    if (kFixedBody + handle_len > len) {
        why = "entry handle overruns its body";
        return DecodeStatus::Damaged;
    }
    e.action = static_cast<Action>(action);
    e.handle.assign(reinterpret_cast<const char*>(p + 19), handle_len);
    e.value_count = load_be32(p + 19 + handle_len);
    const ByteSpan values = body.subspan(kFixedBody + handle_len);
    if (!carries_values(e.action) && (e.value_count != 0 || !values.empty())) {
        why = "entry of action " + std::string(to_string(e.action)) + " carries values";
        return DecodeStatus::Damaged;
    }
    e.values.assign(values.begin(), values.end());
    out.bytes = kEntryHeaderBytes + len;
    return DecodeStatus::Ok;
}

Result<ScanResult, std::string> scan_journal(ByteSpan file, const std::function<void(const Entry&)>& on_entry)
{
    if (!on_entry)
        return scan_journal_at(file, {});
    return scan_journal_at(file, [&on_entry](const Entry& e, std::uint64_t) { on_entry(e); });
}

Result<ScanResult, std::string> scan_journal_at(ByteSpan file,
                                                const std::function<void(const Entry&, std::uint64_t offset)>& on_entry)
{
    ScanResult r;
    if (file.size() < kFileHeaderBytes && torn_header(file)) {
        // Torn at creation: only a prefix of the header (or zeros) can be there.
        r.header_missing = true;
        r.torn_bytes = file.size();
        return r;
    }
    if (std::string bad = check_file_header(file); !bad.empty())
        return Err(bad);
    const std::uint32_t version = load_be32(file.data() + 8);
    r.header_bytes = header_bytes_of(version);
    r.start_txn = version == kVersion ? load_be64(file.data() + 16) : 0;

    std::size_t at = r.header_bytes;
    Decoded d;
    std::string why;
    while (at < file.size()) {
        const ByteSpan rest = file.subspan(at);
        const DecodeStatus s = decode_entry(rest, d, why);
        if (s == DecodeStatus::Short || all_zero(rest))
            break; // torn tail: an append cut short, or space the crash left unwritten
        if (s == DecodeStatus::Damaged) {
            // The last entry failing its checksum is a torn append too; one with entries after
            // it is damage in the middle, which no crash of an appender explains.
            const std::uint32_t len = load_be32(rest.data());
            const bool last = load_be32(rest.data() + 4) == ~len && len <= kMaxBodyBytes &&
                              rest.size() == kEntryHeaderBytes + len && why == "entry checksum mismatch";
            if (last)
                break;
            return Err("journal: offset " + std::to_string(at) + ": " + why);
        }
        const std::uint64_t expect = r.last_txn != 0 ? r.last_txn + 1 : r.start_txn != 0 ? r.start_txn : d.entry.txn_id;
        if (d.entry.txn_id == 0 || d.entry.txn_id != expect)
            return Err("journal: offset " + std::to_string(at) + ": txn id " + std::to_string(d.entry.txn_id) +
                       " where " + std::to_string(expect) + " was expected");
        if (r.entries == 0)
            r.first_txn = d.entry.txn_id;
        r.last_txn = d.entry.txn_id;
        ++r.entries;
        if (on_entry)
            on_entry(d.entry, at);
        at += d.bytes;
    }
    r.valid_bytes = at;
    r.torn_bytes = file.size() - at;
    return r;
}

} // namespace idpath::journal
