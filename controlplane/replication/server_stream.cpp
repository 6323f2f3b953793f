#include "controlplane/replication/server_stream.hpp"

#include "controlplane/crypto/signature.hpp"
#include "controlplane/replication/repl_stream.hpp"

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

Result<void, std::string> write_dump_stream(StreamWriter& w, SourcePort& source, const ShardFilter& shard,
                                            std::int64_t now_ms, std::uint64_t& records)
{
    // Taken before visiting: changes made while the dump runs are re-sent by the txn log.
    const std::uint64_t last_txn = source.last_txn();
    encode_dump_header(w.buffer());
    if (auto r = w.end_record(); !r)
        return r;
    encode_dump_info(DumpInfo{now_ms, last_txn}, w.buffer());
    if (auto r = w.end_record(); !r)
        return r;

    // A piece is copied out under its writer lock and sent after it is released, so a slow
    // mirror never holds up updates; memory is one piece's records.
    std::vector<std::uint8_t> piece;
    std::vector<std::size_t> ends;
    const std::size_t pieces = source.pieces();
    for (std::size_t i = 0; i < pieces; ++i) {
        piece.clear();
        ends.clear();
        source.visit(i, [&](std::string_view key, std::uint32_t count, ByteSpan encoded) {
            if (!shard.contains(key))
                return;
            encode_dump_handle(key, count, encoded, piece);
            ends.push_back(piece.size());
        });
        std::size_t start = 0;
        for (std::size_t end : ends) {
            w.buffer().insert(w.buffer().end(), piece.begin() + static_cast<std::ptrdiff_t>(start),
                              piece.begin() + static_cast<std::ptrdiff_t>(end));
            start = end;
            ++records;
            if (auto r = w.end_record(); !r)
                return r;
        }
    }
    for (const std::string& prefix : source.homed_prefixes()) {
        encode_dump_homed_prefix(prefix_handle_of(prefix), w.buffer());
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
