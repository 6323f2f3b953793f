#include "controlplane/replication/server_stream.hpp"

#include <algorithm>
#include <bit>
#include <optional>

#include "controlplane/crypto/signature.hpp"
#include "controlplane/replication/dump_order.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "dataplane/table/layout.hpp"

namespace idpath::replication {

StreamWriter::StreamWriter(crypto::ByteStream& out, int timeout_ms, const crypto::Key* signer)
    : out_(out), timeout_ms_(timeout_ms), signer_(signer)
{
    buf_.reserve(kChunk + 4096);
}

void StreamWriter::preamble(ByteSpan bytes)
{
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    block_start_ = buf_.size();
}

Result<void, std::string> StreamWriter::end_record(bool sign)
{
    if (signer_ && sign) {
        // HANDLE.NET signs with SHA1with<key algorithm> whatever the protocol (research7 section 4).
        auto sig = crypto::sign(*signer_, "SHA1", ByteSpan(buf_).subspan(block_start_));
        if (!sig)
            return Err("signing a stream block: " + sig.error());
        append_block_signature(*sig, buf_);
    }
    block_start_ = buf_.size();
    if (buf_.size() >= kChunk)
        return flush();
    return {};
}

Result<void, std::string> StreamWriter::flush()
{
    if (buf_.empty())
        return {};
    // Only whole blocks are ever flushed (end_record is the only caller besides the end).
    if (auto r = out_.write_all(buf_, timeout_ms_); !r)
        return r;
    written_ += buf_.size();
    buf_.clear();
    block_start_ = 0;
    return {};
}

Result<bool, std::string> write_txn_stream(StreamWriter& w, SourcePort& source, const RetrieveTxnRequest& req,
                                           std::int64_t now_ms, std::uint64_t& records)
{
    // The header waits for the journal's answer: a range it cannot cover is NEED_TO_REDUMP, and
    // read_txns only says so when it returns.
    bool started = false;
    Result<void, std::string> failed{};
    auto header = [&](std::uint32_t status) {
        encode_txn_header(TxnStreamHeader{1, status}, w.buffer());
        return w.end_record();
    };
    auto read = source.read_txns(req.last_txn_id, [&](const journal::Entry& e) {
        if (!started) {
            started = true;
            if (failed = header(kStatusSendingTransactions); !failed)
                return false;
        }
        // HOME/UNHOME reach every shard, as HANDLE.NET sends NA transactions to all receivers.
        const bool prefix_txn = e.action == journal::Action::Home || e.action == journal::Action::Unhome;
        if (!prefix_txn && !req.shard.contains(e.handle))
            return true;
        if (prefix_txn) {
            // The journal keeps the prefix ("88.100.1"); HANDLE.NET's NA transactions carry the
            // prefix handle ("0.NA/88.100.1"), which is what a 9.x mirror homes.
            journal::Entry na = e;
            na.handle = prefix_handle_of(prefix_from_prefix_handle(e.handle));
            encode_txn_record(na, w.buffer());
        } else {
            encode_txn_record(e, w.buffer());
        }
        ++records;
        failed = w.end_record();
        return failed.ok();
    });
    if (!failed)
        return Err(failed.error());
    if (!read)
        return Err("reading the journal: " + read.error());
    const bool redump = !*read;
    if (redump && started)
        return Err(std::string("the journal stopped covering the range while it was read"));
    if (!started)
        if (auto r = header(redump ? kStatusNeedToRedump : kStatusSendingTransactions); !r)
            return Err(r.error());
    // On a redump the date echoes the request's, so the mirror's next query loses nothing.
    encode_txn_end(TxnEnd{redump ? req.last_query_date_ms : now_ms}, w.buffer());
    if (auto r = w.end_record(); !r)
        return Err(r.error());
    if (auto r = w.flush(); !r)
        return Err(r.error());
    return redump;
}

namespace {

/// One record of the piece being sorted: where encode_dump_handle put it in the piece buffer.
struct PieceRecord {
    std::uint64_t hash = 0;
    std::size_t begin = 0;
    std::size_t end = 0;
};

// encode_dump_handle writes the type octet and the key's int4 length before the key.
constexpr std::size_t kKeyAt = 5;

std::string_view key_of(const std::vector<std::uint8_t>& piece, const PieceRecord& r)
{
    const std::uint32_t n = load_be32(piece.data() + r.begin + 1);
    return {reinterpret_cast<const char*>(piece.data() + r.begin + kKeyAt), n};
}

/// Every record of `shard` after `after` (when set) in dump order, one piece at a time.
Result<void, std::string> write_handles(StreamWriter& w, SourcePort& source, const ShardFilter& shard,
                                        const std::optional<std::string>& after, std::uint64_t& records)
{
    const std::uint64_t after_hash = after ? dump_hash(*after) : 0;
    // The lowest hash not sent yet. Pieces are looked up from it, not counted, so a reload that
    // changes the piece count between two pieces neither skips nor repeats a hash range.
    std::uint64_t from = after_hash;
    std::vector<std::uint8_t> piece;
    std::vector<PieceRecord> order;
    for (;;) {
        const std::size_t pieces = source.pieces();
        if (pieces == 0)
            return {};
        if (!std::has_single_bit(pieces) || pieces > (std::size_t{1} << table::layout::kMaxShardBits))
            return Err("the table has " + std::to_string(pieces) + " pieces, not a power of two up to " +
                       std::to_string(std::size_t{1} << table::layout::kMaxShardBits));
        const std::size_t i = dump_piece_of(from, pieces);
        piece.clear();
        order.clear();
        // Copied out under the piece's writer lock and sent after it is released, so a slow
        // mirror never holds up updates.
        source.visit(i, [&](std::string_view key, std::uint32_t count, ByteSpan encoded) {
            if (!shard.contains(key))
                return;
            const std::uint64_t h = dump_hash(key);
            if (h < from || (after && !dump_before(after_hash, *after, h, key)))
                return;
            const std::size_t begin = piece.size();
            encode_dump_handle(key, count, encoded, piece);
            order.push_back(PieceRecord{h, begin, piece.size()});
        });
        // A reload between pieces() and visit() would have shown another range: look it up again.
        if (source.pieces() != pieces)
            continue;
        std::sort(order.begin(), order.end(), [&piece](const PieceRecord& a, const PieceRecord& b) {
            return dump_before(a.hash, key_of(piece, a), b.hash, key_of(piece, b));
        });
        for (const PieceRecord& r : order) {
            w.buffer().insert(w.buffer().end(), piece.begin() + static_cast<std::ptrdiff_t>(r.begin),
                              piece.begin() + static_cast<std::ptrdiff_t>(r.end));
            ++records;
            if (auto sent = w.end_record(); !sent)
                return sent;
        }
        if (i + 1 >= pieces)
            return {};
        from = dump_piece_start(i + 1, pieces);
    }
}

} // namespace

Result<void, std::string> write_dump_stream(StreamWriter& w, SourcePort& source, const DumpHandlesRequest& req,
                                            std::int64_t now_ms, std::uint64_t& records)
{
    encode_dump_header(w.buffer());
    if (auto r = w.end_record(); !r)
        return r;
    const bool resume = req.starting_point.has_value();
    if (!resume) {
        // Taken before visiting: changes made while the dump runs are re-sent by the txn log.
        encode_dump_info(DumpInfo{now_ms, source.last_txn()}, w.buffer());
        if (auto r = w.end_record(); !r)
            return r;
    }
    const std::uint32_t type = req.starting_point_type;
    if (!resume || type != kResumeNa) {
        std::optional<std::string> after;
        if (resume && type == kResumeHandle)
            after = req.starting_point;
        if (auto r = write_handles(w, source, req.shard, after, records); !r)
            return r;
    }
    std::vector<std::string> prefixes;
    for (const std::string& prefix : source.homed_prefixes())
        prefixes.push_back(prefix_handle_of(prefix));
    std::sort(prefixes.begin(), prefixes.end());
    for (const std::string& p : prefixes) {
        if (resume && type == kResumeNa && p <= *req.starting_point)
            continue;
        encode_dump_homed_prefix(p, w.buffer());
        if (auto r = w.end_record(); !r)
            return r;
    }
    encode_dump_done(w.buffer());
    // ABSOLUTELY_DONE carries no signature (research7 section 5).
    if (auto r = w.end_record(false); !r)
        return r;
    return w.flush();
}

} // namespace idpath::replication
