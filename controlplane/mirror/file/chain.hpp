#pragma once
/// The hash chain of the file sink (docs/log-schema.md, "Files"). A file is a run of frames;
/// each is a chain header followed by the batch's data exactly as stored (a zstd frame in .zst
/// files, the plain encoding otherwise), and carries
///     link = SHA-256(prev || canonical header || stored data)
/// where prev is the link of the frame before it, in the same file or, for a file's first
/// frame, the last frame of the file before. Hashing the stored octets, not the decompressed
/// ones, makes every octet of a file count. A file closed by rotation ends in a seal frame (no
/// data, index = its batch count), so a closed file cut at a frame boundary is caught too.
///
/// The chain header in each kind of file:
///   .ipl        88 octets: canonical header (24) || prev (32) || link (32)
///   .ipl.zst,
///   .jsonl.zst  the same 88 octets as a zstd skippable frame (magic 0x184D2A5C, size 88), so
///               zstd tools skip it and `zstdcat` gives the plain records
///   .jsonl      one line {"kind":"chain","type":"batch"|"seal","index":I,"bytes":N,
///               "prev":HEX,"link":HEX}
/// canonical header: "IPLK", type (1 batch, 2 seal), 3 zero octets, index (u64 LE),
/// stored data size (u32 LE), 4 zero octets.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "controlplane/mirror/file/log_file_name.hpp"
#include "dataplane/base/bytes.hpp"

namespace idpath::mirror {

using Link = std::array<std::uint8_t, 32>;

enum class FrameType : std::uint8_t { Batch = 1, Seal = 2 };

inline constexpr std::size_t kChainHeaderBytes = 88;
/// Largest data part a reader accepts: far above any batch, small enough to bound a reader's
/// memory on a damaged size.
inline constexpr std::size_t kMaxFrameData = std::size_t{1} << 30;

struct FrameHead {
    FrameType type = FrameType::Batch;
    std::uint64_t index = 0;   // frames before it in its file
    std::uint32_t size = 0;    // octets of stored data after the header
    Link prev{};
    Link link{};
};

/// SHA-256(prev || canonical header of (type, index, stored.size()) || stored).
Link chain_link(const Link& prev, FrameType type, std::uint64_t index, ByteSpan stored);

/// Appends the chain header of `head` for a file of `format` (`compressed` or not) to `out`.
void append_chain_header(LogFormat format, bool compressed, const FrameHead& head, std::string& out);

/// Reads a chain header at the front of `in`.
struct ParsedHeader {
    enum class Status { Ok, NeedMore, Bad } status = Status::NeedMore;
    FrameHead head;
    std::size_t size = 0; // octets of the header itself
};
ParsedHeader parse_chain_header(LogFormat format, bool compressed, std::string_view in);

std::string hex(const Link& l);

} // namespace idpath::mirror
