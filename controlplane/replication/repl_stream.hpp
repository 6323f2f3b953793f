#pragma once
/// The data a primary streams after its success reply to OC_RETRIEVE_TXN_LOG / OC_DUMP_HANDLES
/// (research/handle-protocol.md sections 1.8.8, 1.15), inside TLS or signed blocks (the
/// transport, crypto/ and stream_io), as plain records here. Pure.
///
/// Decoding is incremental: feed() what arrived, next() returns records while whole ones are
/// buffered; a malformed record is an error naming the offset, and bounds (handle length,
/// value count, value size) stop a hostile stream from growing memory.

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "controlplane/journal/journal_format.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::replication {

inline constexpr std::uint32_t kStatusNeedToRedump = 1;
inline constexpr std::uint32_t kStatusSendingTransactions = 2;

/// One handle's values as the stream carries them: `count` values, each int4 length + the
/// value encoding (dataplane/wire/value.hpp), here stored concatenated WITHOUT the length
/// prefixes (the table's RecordView::encoded form, journal::Entry::values form).
struct StreamValues {
    std::uint32_t count = 0;
    std::vector<std::uint8_t> encoded;
};

// ---- RETRIEVE_TXN_LOG, data format 1 ------------------------------------------------------
struct TxnStreamHeader {
    std::uint32_t data_format = 1;
    std::uint32_t status = kStatusSendingTransactions;
};
/// Record type 1: a transaction; journal::Entry carries exactly its fields (values empty for
/// delete/home/unhome).
using TxnRecord = journal::Entry;
/// Record type 0: the end; `date_ms` is the next lastQueryDate (format 1; format 2 has none).
struct TxnEnd {
    std::int64_t date_ms = 0;
};

void encode_txn_header(const TxnStreamHeader& h, std::vector<std::uint8_t>& out);
void encode_txn_record(const TxnRecord& r, std::vector<std::uint8_t>& out);
void encode_txn_end(const TxnEnd& e, std::vector<std::uint8_t>& out);

// ---- DUMP_HANDLES, data format 2 ----------------------------------------------------------
/// Record type 0: THIS_SERVER_REPLICATION_INFO.
struct DumpInfo {
    std::int64_t date_ms = 0;
    std::uint64_t last_txn_id = 0;
};
/// Record type 1: a handle and its values.
struct DumpHandle {
    std::string handle;
    StreamValues values;
};
/// Record type 2: a homed prefix, as the prefix handle ("0.NA/88.100.1").
struct DumpHomedPrefix {
    std::string prefix_handle;
};
/// Record types 3, 4, 5 (handle date, NA date, other sites' replication info): parsed and skipped.
struct DumpSkipped {
    std::uint8_t type = 0;
};
/// Record type 0xff (-1): ABSOLUTELY_DONE.
struct DumpDone {};

void encode_dump_header(std::vector<std::uint8_t>& out); // int4 2
void encode_dump_info(const DumpInfo& i, std::vector<std::uint8_t>& out);
void encode_dump_handle(std::string_view handle, std::uint32_t count, ByteSpan encoded_values,
                        std::vector<std::uint8_t>& out);
void encode_dump_homed_prefix(std::string_view prefix_handle, std::vector<std::uint8_t>& out);
void encode_dump_done(std::vector<std::uint8_t>& out);

using TxnItem = std::variant<TxnStreamHeader, TxnRecord, TxnEnd>;
using DumpItem = std::variant<DumpInfo, DumpHandle, DumpHomedPrefix, DumpSkipped, DumpDone>;

struct StreamLimits {
    std::size_t max_handle = 4096;          // octets of a handle
    std::uint32_t max_values = 65536;       // values of one handle
    std::size_t max_value_bytes = 1u << 20; // octets of one encoded value
    /// Octets one record may take while incomplete: bounds what a stream that never finishes
    /// its record can make the decoder hold.
    std::size_t max_record_bytes = 64u << 20;
    /// The signed-plaintext form (a primary answering protocol < 2.8; HANDLE.NET
    /// SignedOutputStream, research7 section 4): the header and every record except the dump's
    /// final 0xff are followed by int4 length + signature (SHA1with<key>) over the octets since
    /// the previous signature. The caller reads the "\0\0\0\0" marker and String hash id itself.
    bool signed_blocks = false;
    std::size_t max_signature = 2048;
};

/// With signed_blocks: the octets an item's signature covers and the signature, for the caller
/// to verify (crypto::verify with "SHA1") BEFORE it uses the item.
struct SignedBlock {
    std::vector<std::uint8_t> data;
    std::vector<std::uint8_t> signature;
    bool present = false; // false for the dump's final 0xff, which is not signed
};

/// The writer side of signed_blocks: appends int4 length + `signature` (over the octets of
/// `out` from `block_start`) after a record; the server signs with crypto::sign.
void append_block_signature(ByteSpan signature, std::vector<std::uint8_t>& out);

namespace detail {
/// How far a decoder has checked the value list of the record it is waiting on, so a large
/// record that arrives in many pieces is walked once, not once per piece.
struct ValueScan {
    std::size_t at = 0;     // octets from the record's start already checked; 0: not begun
    std::uint32_t seen = 0; // value slots walked, null values included
    std::uint32_t kept = 0; // non-null values among them
};
} // namespace detail

/// What both stream decoders keep: the octets received and not yet consumed, where the stream
/// stands, and the signature block of the last item.
class StreamDecoderBase {
public:
    /// Appends received octets.
    void feed(ByteSpan bytes);
    std::uint64_t offset() const noexcept { return consumed_; }
    /// With signed_blocks: the block of the item next() returned last.
    const SignedBlock& last_block() const noexcept { return block_; }

protected:
    explicit StreamDecoderBase(StreamLimits limits) : limits_(limits) {}

    StreamLimits limits_;
    std::vector<std::uint8_t> buf_;
    std::size_t pos_ = 0;
    std::uint64_t consumed_ = 0;
    bool header_done_ = false;
    bool ended_ = false;
    SignedBlock block_;
    detail::ValueScan scan_;
};

/// Incremental decoder of a txn stream: header first, then records until TxnEnd.
class TxnStreamDecoder : public StreamDecoderBase {
public:
    explicit TxnStreamDecoder(StreamLimits limits = {}) : StreamDecoderBase(limits) {}
    /// The next whole item; false when more bytes are needed; an error (naming the stream
    /// offset) on malformed input. After TxnEnd, further bytes are an error.
    Result<bool, std::string> next(TxnItem& out);
};

/// Incremental decoder of a dump stream: int4 data format (2) first, then records until DumpDone.
class DumpStreamDecoder : public StreamDecoderBase {
public:
    explicit DumpStreamDecoder(StreamLimits limits = {}) : StreamDecoderBase(limits) {}
    Result<bool, std::string> next(DumpItem& out);
};

/// "0.NA/88.100.1" -> "88.100.1" (ASCII case kept); other input returned as is.
std::string prefix_from_prefix_handle(std::string_view prefix_handle);
/// "88.100.1" -> "0.NA/88.100.1".
std::string prefix_handle_of(std::string_view prefix);

} // namespace idpath::replication
