#include "controlplane/replication/repl_stream.hpp"

#include "dataplane/base/byte_append.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::replication {

namespace {

constexpr std::uint32_t kTxnDataFormat = 1;
constexpr std::uint32_t kDumpDataFormat = 2;

constexpr std::uint8_t kTxnEnd = 0;
constexpr std::uint8_t kTxnRecord = 1;

constexpr std::uint8_t kDumpInfo = 0;
constexpr std::uint8_t kDumpHandle = 1;
constexpr std::uint8_t kDumpHomedPrefix = 2;
constexpr std::uint8_t kDumpHandleDate = 3;
constexpr std::uint8_t kDumpNaDate = 4;
constexpr std::uint8_t kDumpOtherSite = 5;
constexpr std::uint8_t kDumpDone = 0xff;

/// HANDLE.NET's "delete all": idpath cannot apply it without wiping what it did not get.
constexpr std::uint8_t kActionDeleteAll = 6;

constexpr std::string_view kNaPrefix = "0.NA/";

/// `count` values concatenated as the table holds them, each written with its int4 length.
/// The values must be well-formed (they come from the table); a walk that fails writes the
/// rest as one value so nothing is lost silently and the peer's decoder refuses the record.
void put_values(std::vector<std::uint8_t>& out, std::uint32_t count, ByteSpan encoded)
{
    append_be32(out, count);
    ByteReader r(encoded);
    for (std::uint32_t i = 0; i < count && !r.at_end(); ++i) {
        const std::size_t start = r.position();
        if (!wire::decode_value(r)) {
            append_string(out, encoded.subspan(start));
            return;
        }
        append_string(out, encoded.subspan(start, r.position() - start));
    }
}

enum class Got : std::uint8_t { Item, Short, Bad };

/// The buffered octets from the start of the item being decoded.
struct In {
    ByteSpan b;
    std::size_t at = 0;    // octets of the item read so far
    std::uint64_t base = 0; // stream offset of b[0]
    std::string_view stream;
    std::string error;

    bool have(std::size_t n) const noexcept { return b.size() - at >= n; }
    std::uint8_t u8() noexcept { return b[at++]; }
    std::uint32_t u32() noexcept
    {
        const std::uint32_t v = load_be32(b.data() + at);
        at += 4;
        return v;
    }
    std::uint64_t u64() noexcept
    {
        const std::uint64_t v = load_be64(b.data() + at);
        at += 8;
        return v;
    }
    Got bad(std::size_t field, const std::string& why)
    {
        error = std::string(stream) + " offset " + std::to_string(base + field) + ": " + why;
        return Got::Bad;
    }
};

std::string exceeds(std::string_view what, std::uint64_t n, std::uint64_t max)
{
    return std::string(what) + " of " + std::to_string(n) + " octets exceeds " + std::to_string(max);
}

/// int4 length + octets. The length is checked against `max` before the octets are awaited, so a
/// hostile length fails at once instead of making the caller buffer it.
Got read_string(In& in, std::size_t max, std::string_view what, bool non_empty, ByteSpan& out)
{
    if (!in.have(4))
        return Got::Short;
    const std::size_t field = in.at;
    const std::uint32_t len = in.u32();
    if (len > max)
        return in.bad(field, exceeds(what, len, max));
    if (len == 0 && non_empty)
        return in.bad(field, "empty " + std::string(what));
    if (!in.have(len))
        return Got::Short;
    out = in.b.subspan(in.at, len);
    in.at += len;
    return Got::Item;
}

/// A value list's int4 count, bounded.
Got read_count(In& in, const StreamLimits& lim, std::uint32_t& count)
{
    if (!in.have(4))
        return Got::Short;
    const std::size_t field = in.at;
    count = in.u32();
    if (count > lim.max_values)
        return in.bad(field, std::to_string(count) + " values exceed " + std::to_string(lim.max_values));
    return Got::Item;
}

/// Checks `count` slots of int4 length + value from in.at, resuming where `scan` stopped. Each
/// value must be exactly one well-formed value encoding; length 0 is HANDLE.NET's null value.
Got scan_values(In& in, std::uint32_t count, const StreamLimits& lim, detail::ValueScan& scan)
{
    if (scan.at == 0)
        scan = {in.at, 0, 0};
    while (scan.seen < count) {
        const std::size_t field = scan.at;
        if (in.b.size() - field < 4)
            return Got::Short;
        const std::uint32_t len = load_be32(in.b.data() + field);
        if (len > lim.max_value_bytes)
            return in.bad(field, exceeds("value", len, lim.max_value_bytes));
        if (in.b.size() - field - 4 < len)
            return Got::Short;
        if (len != 0) {
            ByteReader r(in.b.subspan(field + 4, len));
            const auto v = wire::decode_value(r);
            if (!v)
                return in.bad(field, "value " + std::to_string(scan.seen) + " malformed (" + wire::to_string(v.error()) + ")");
            if (!r.at_end())
                return in.bad(field, "value " + std::to_string(scan.seen) + " of " + std::to_string(len) +
                                         " octets holds " + std::to_string(len - r.position()) + " octets after it");
            ++scan.kept;
        }
        ++scan.seen;
        scan.at = field + 4 + len;
    }
    in.at = scan.at;
    return Got::Item;
}

/// Copies the values scan_values() checked, without their length prefixes.
void collect_values(ByteSpan b, std::size_t from, std::uint32_t count, std::uint32_t kept, StreamValues& out)
{
    out.count = kept;
    out.encoded.clear();
    std::size_t at = from;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t len = load_be32(b.data() + at);
        out.encoded.insert(out.encoded.end(), b.begin() + static_cast<std::ptrdiff_t>(at + 4),
                           b.begin() + static_cast<std::ptrdiff_t>(at + 4 + len));
        at += 4 + len;
    }
}

/// A value list to copy once the item (and its signature) is whole.
struct PendingValues {
    bool present = false;
    std::size_t from = 0;
    std::uint32_t count = 0;
};

/// The signature after an item of in.at octets (signed_blocks), into `block`.
Got read_signature(In& in, const StreamLimits& lim, SignedBlock& block)
{
    const std::size_t item_size = in.at;
    ByteSpan sig;
    if (Got g = read_string(in, lim.max_signature, "signature", false, sig); g != Got::Item)
        return g;
    block.data.assign(in.b.begin(), in.b.begin() + static_cast<std::ptrdiff_t>(item_size));
    block.signature.assign(sig.begin(), sig.end());
    block.present = true;
    return Got::Item;
}

Got parse_txn_header(In& in, TxnItem& out)
{
    if (!in.have(8))
        return Got::Short;
    TxnStreamHeader h;
    h.data_format = in.u32();
    h.status = in.u32();
    // Format 2 answers a mode-1 request (other sources' queues), which idpath never sends.
    if (h.data_format != kTxnDataFormat)
        return in.bad(0, "data format " + std::to_string(h.data_format) + " not supported (expected 1)");
    if (h.status != kStatusNeedToRedump && h.status != kStatusSendingTransactions)
        return in.bad(4, "status " + std::to_string(h.status) + " unknown");
    out = h;
    return Got::Item;
}

Got parse_txn_record(In& in, const StreamLimits& lim, detail::ValueScan& scan, TxnItem& out,
                     PendingValues& pending)
{
    if (!in.have(1))
        return Got::Short;
    const std::uint8_t type = in.u8();
    if (type == kTxnEnd) {
        if (!in.have(8))
            return Got::Short;
        out = TxnEnd{static_cast<std::int64_t>(in.u64())};
        return Got::Item;
    }
    if (type != kTxnRecord)
        return in.bad(0, "record type " + std::to_string(type) + " unknown");

    TxnRecord r;
    if (!in.have(8))
        return Got::Short;
    r.txn_id = in.u64();
    ByteSpan handle;
    if (Got g = read_string(in, lim.max_handle, "handle", true, handle); g != Got::Item)
        return g;
    if (!in.have(1 + 8))
        return Got::Short;
    const std::size_t action_at = in.at;
    const std::uint8_t action = in.u8();
    if (action == kActionDeleteAll)
        return in.bad(action_at, "unsupported action 6 (delete all)");
    if (action < 1 || action > 5)
        return in.bad(action_at, "action " + std::to_string(action) + " unknown");
    r.action = static_cast<journal::Action>(action);
    r.date_ms = static_cast<std::int64_t>(in.u64());
    r.handle.assign(as_string_view(handle));
    if (r.action == journal::Action::Create || r.action == journal::Action::Update) {
        std::uint32_t count = 0;
        if (Got g = read_count(in, lim, count); g != Got::Item)
            return g;
        pending = {true, in.at, count};
        if (Got g = scan_values(in, count, lim, scan); g != Got::Item)
            return g;
    }
    out = std::move(r);
    return Got::Item;
}

Got parse_dump_record(In& in, const StreamLimits& lim, detail::ValueScan& scan, DumpItem& out,
                      PendingValues& pending)
{
    if (!in.have(1))
        return Got::Short;
    const std::uint8_t type = in.u8();
    switch (type) {
    case kDumpInfo: {
        if (!in.have(16))
            return Got::Short;
        DumpInfo i;
        i.date_ms = static_cast<std::int64_t>(in.u64());
        i.last_txn_id = in.u64();
        out = i;
        return Got::Item;
    }
    case kDumpHandle: {
        ByteSpan handle;
        if (Got g = read_string(in, lim.max_handle, "handle", true, handle); g != Got::Item)
            return g;
        std::uint32_t count = 0;
        if (Got g = read_count(in, lim, count); g != Got::Item)
            return g;
        pending = {true, in.at, count};
        if (Got g = scan_values(in, count, lim, scan); g != Got::Item)
            return g;
        DumpHandle h;
        h.handle.assign(as_string_view(handle));
        out = std::move(h);
        return Got::Item;
    }
    case kDumpHomedPrefix: {
        ByteSpan prefix;
        if (Got g = read_string(in, lim.max_handle, "prefix handle", true, prefix); g != Got::Item)
            return g;
        out = DumpHomedPrefix{std::string(as_string_view(prefix))};
        return Got::Item;
    }
    case kDumpHandleDate:
    case kDumpNaDate: {
        ByteSpan handle;
        if (Got g = read_string(in, lim.max_handle, "handle", false, handle); g != Got::Item)
            return g;
        if (!in.have(8 + 4))
            return Got::Short;
        in.at += 8 + 4; // int8 date, int4 priority
        out = DumpSkipped{type};
        return Got::Item;
    }
    case kDumpOtherSite: {
        ByteSpan text; // StreamTable text of the source's own replication status
        if (Got g = read_string(in, lim.max_value_bytes, "replication status", false, text); g != Got::Item)
            return g;
        out = DumpSkipped{type};
        return Got::Item;
    }
    case kDumpDone: out = DumpDone{}; return Got::Item;
    default: return in.bad(0, "record type " + std::to_string(type) + " unknown");
    }
}

/// Extracts the values of a finished item into the StreamValues it carries.
void fill_values(const In& in, const PendingValues& p, const detail::ValueScan& scan, TxnItem& item)
{
    if (auto* r = std::get_if<TxnRecord>(&item); r && p.present) {
        StreamValues v;
        collect_values(in.b, p.from, p.count, scan.kept, v);
        r->value_count = v.count;
        r->values = std::move(v.encoded);
    }
}

void fill_values(const In& in, const PendingValues& p, const detail::ValueScan& scan, DumpItem& item)
{
    if (auto* h = std::get_if<DumpHandle>(&item); h && p.present)
        collect_values(in.b, p.from, p.count, scan.kept, h->values);
}

/// Drops consumed octets once they are at least half the buffer, so the buffer stays within
/// twice the largest pending item while each octet is moved O(1) times.
void compact(std::vector<std::uint8_t>& buf, std::size_t& pos)
{
    if (pos == 0 || pos * 2 < buf.size())
        return;
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
    pos = 0;
}

/// Names no count of octets: the message must not depend on how the stream was cut into pieces.
/// A record still incomplete: wait for more, unless it already holds more than a record may.
Result<bool, std::string> incomplete(const In& in, const StreamLimits& limits, std::size_t buffered)
{
    if (buffered <= limits.max_record_bytes)
        return false;
    return Err{std::string(in.stream) + " offset " + std::to_string(in.base) + ": record exceeds " +
               std::to_string(limits.max_record_bytes) + " octets"};
}

std::string after_end(std::string_view stream, std::uint64_t offset)
{
    return std::string(stream) + " offset " + std::to_string(offset) + ": data after the end record";
}

} // namespace

// ---- encoders --------------------------------------------------------------------------------

void encode_txn_header(const TxnStreamHeader& h, std::vector<std::uint8_t>& out)
{
    append_be32(out, h.data_format);
    append_be32(out, h.status);
}

void encode_txn_record(const TxnRecord& r, std::vector<std::uint8_t>& out)
{
    out.push_back(kTxnRecord);
    append_be64(out, r.txn_id);
    append_string(out, as_bytes(r.handle));
    out.push_back(static_cast<std::uint8_t>(r.action));
    append_be64(out, static_cast<std::uint64_t>(r.date_ms));
    if (r.action == journal::Action::Create || r.action == journal::Action::Update)
        put_values(out, r.value_count, r.values);
}

void encode_txn_end(const TxnEnd& e, std::vector<std::uint8_t>& out)
{
    out.push_back(kTxnEnd);
    append_be64(out, static_cast<std::uint64_t>(e.date_ms));
}

void encode_dump_header(std::vector<std::uint8_t>& out) { append_be32(out, kDumpDataFormat); }

void encode_dump_info(const DumpInfo& i, std::vector<std::uint8_t>& out)
{
    out.push_back(kDumpInfo);
    append_be64(out, static_cast<std::uint64_t>(i.date_ms));
    append_be64(out, i.last_txn_id);
}

void encode_dump_handle(std::string_view handle, std::uint32_t count, ByteSpan encoded_values,
                        std::vector<std::uint8_t>& out)
{
    out.push_back(kDumpHandle);
    append_string(out, as_bytes(handle));
    put_values(out, count, encoded_values);
}

void encode_dump_homed_prefix(std::string_view prefix_handle, std::vector<std::uint8_t>& out)
{
    out.push_back(kDumpHomedPrefix);
    append_string(out, as_bytes(prefix_handle));
}

void encode_dump_done(std::vector<std::uint8_t>& out) { out.push_back(kDumpDone); }

void append_block_signature(ByteSpan signature, std::vector<std::uint8_t>& out) { append_string(out, signature); }

// ---- decoders --------------------------------------------------------------------------------

void StreamDecoderBase::feed(ByteSpan bytes)
{
    compact(buf_, pos_);
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

Result<bool, std::string> TxnStreamDecoder::next(TxnItem& out)
{
    In in{ByteSpan(buf_).subspan(pos_), 0, consumed_, "txn stream", {}};
    if (ended_) {
        if (in.b.empty())
            return false;
        return Err{after_end(in.stream, consumed_)};
    }
    TxnItem item;
    PendingValues pending;
    Got g = header_done_ ? parse_txn_record(in, limits_, scan_, item, pending) : parse_txn_header(in, item);
    if (g == Got::Item && limits_.signed_blocks)
        g = read_signature(in, limits_, block_);
    if (g == Got::Short)
        return incomplete(in, limits_, buf_.size() - pos_);
    if (g == Got::Bad)
        return Err{std::move(in.error)};

    fill_values(in, pending, scan_, item);
    scan_ = {};
    header_done_ = true;
    ended_ = std::holds_alternative<TxnEnd>(item);
    pos_ += in.at;
    consumed_ += in.at;
    out = std::move(item);
    return true;
}

Result<bool, std::string> DumpStreamDecoder::next(DumpItem& out)
{
    In in{ByteSpan(buf_).subspan(pos_), 0, consumed_, "dump stream", {}};
    if (ended_) {
        if (in.b.empty())
            return false;
        return Err{after_end(in.stream, consumed_)};
    }
    if (!header_done_) {
        if (!in.have(4))
            return false;
        const std::uint32_t format = in.u32();
        if (format != kDumpDataFormat)
            return Err{std::string(in.stream) + " offset " + std::to_string(consumed_) + ": data format " +
                       std::to_string(format) + " not supported (expected 2)"};
        Got g = limits_.signed_blocks ? read_signature(in, limits_, block_) : Got::Item;
        if (g == Got::Short)
            return false;
        if (g == Got::Bad)
            return Err{std::move(in.error)};
        header_done_ = true;
        pos_ += in.at;
        consumed_ += in.at;
        // The header is not an item of DumpItem, so its signature is not handed out: it covers
        // only the format octets, checked above, and the next block starts after it anyway.
        return next(out);
    }
    DumpItem item;
    PendingValues pending;
    Got g = parse_dump_record(in, limits_, scan_, item, pending);
    const bool done = g == Got::Item && std::holds_alternative<DumpDone>(item);
    if (g == Got::Item && limits_.signed_blocks) {
        // HANDLE.NET writes ABSOLUTELY_DONE after the last signBlock(): it is not signed.
        if (done)
            block_ = SignedBlock{};
        else
            g = read_signature(in, limits_, block_);
    }
    if (g == Got::Short)
        return incomplete(in, limits_, buf_.size() - pos_);
    if (g == Got::Bad)
        return Err{std::move(in.error)};

    fill_values(in, pending, scan_, item);
    scan_ = {};
    ended_ = done;
    pos_ += in.at;
    consumed_ += in.at;
    out = std::move(item);
    return true;
}

std::string prefix_from_prefix_handle(std::string_view prefix_handle)
{
    if (prefix_handle.size() < kNaPrefix.size())
        return std::string(prefix_handle);
    for (std::size_t i = 0; i < kNaPrefix.size(); ++i) {
        char c = prefix_handle[i];
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        if (c != kNaPrefix[i])
            return std::string(prefix_handle);
    }
    return std::string(prefix_handle.substr(kNaPrefix.size()));
}

std::string prefix_handle_of(std::string_view prefix) { return std::string(kNaPrefix) + std::string(prefix); }

} // namespace idpath::replication
