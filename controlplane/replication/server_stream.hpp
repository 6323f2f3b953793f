#pragma once
/// What a replication server (repl_server.hpp) streams after its success reply to
/// OC_RETRIEVE_TXN_LOG and OC_DUMP_HANDLES, as a HANDLE.NET 9.2 primary does (research7
/// sections 4 and 5): records from the node (table_port.hpp) encoded by repl_stream.hpp, written
/// in chunks within a deadline, inside TLS or, for a mirror below protocol 2.8, as plaintext
/// blocks each closed by the server key's SHA1 signature.
/// One StreamWriter per connection thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/crypto/byte_stream.hpp"
#include "controlplane/crypto/keys.hpp"
#include "controlplane/replication/repl_wire.hpp"
#include "controlplane/replication/table_port.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::replication {

class StreamWriter {
public:
    /// `signer` null: unsigned records (inside TLS). Otherwise every end_record(true) appends
    /// the signature of the octets since the previous one (HANDLE.NET SignedOutputStream).
    StreamWriter(crypto::ByteStream& out, int timeout_ms, const crypto::Key* signer);

    /// Octets outside every signed block (the "\0\0\0\0" + String "SHA1" preamble).
    void preamble(ByteSpan bytes);
    /// Where the next record is encoded; then end_record().
    std::vector<std::uint8_t>& buffer() noexcept { return buf_; }
    /// Closes the record just encoded (signing it when signed and `sign`) and writes out what is
    /// buffered once it passes the chunk size. Errors: the write's ("timeout", ...) or signing's.
    Result<void, std::string> end_record(bool sign = true);
    Result<void, std::string> flush();
    std::uint64_t bytes_written() const noexcept { return written_; }

    static constexpr std::size_t kChunk = 64 * 1024;

private:
    crypto::ByteStream& out_;
    const int timeout_ms_;
    const crypto::Key* signer_;
    std::vector<std::uint8_t> buf_;
    std::size_t block_start_ = 0;
    std::uint64_t written_ = 0;
};

/// The TXN stream for `req` (data format 1): the journal after req.last_txn_id, HOME/UNHOME
/// always and other transactions of `req.shard` only, ended with `now_ms` as the next
/// lastQueryDate; or NEED_TO_REDUMP when the journal cannot cover the range. Returns true when
/// it asked for a redump; `records` counts the transactions sent.
Result<bool, std::string> write_txn_stream(StreamWriter& w, SourcePort& source, const RetrieveTxnRequest& req,
                                           std::int64_t now_ms, std::uint64_t& records);

/// The DUMP stream (data format 2): DumpInfo (now, last_txn taken before visiting), every record
/// of `req.shard` in dump order (dump_order.hpp), every homed prefix in octet order (sent
/// whatever the shard, as HANDLE.NET does), then 0xff.
/// A resume (req.starting_point set) is what a HANDLE.NET 9.x primary sends then: no DumpInfo
/// (the mirror keeps the first response's lastTxnId), and for kResumeHandle the handles after
/// the starting point and every prefix; for kResumeNa the prefixes after it; for any other
/// type everything (a mirror stages a record seen twice once).
/// Memory: one piece's encoded records plus 24 octets each, to sort them.
Result<void, std::string> write_dump_stream(StreamWriter& w, SourcePort& source, const DumpHandlesRequest& req,
                                            std::int64_t now_ms, std::uint64_t& records);

} // namespace idpath::replication
