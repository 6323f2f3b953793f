#pragma once
/// Reads one of the file sink's files front to back, frame by frame, whether it is complete,
/// still being written, or cut short: what `idpathctl logs verify` and `logs cat` and the sink's
/// own restart (to find the last link of the chain) all need.

#include <filesystem>
#include <functional>
#include <string>

#include "controlplane/mirror/file/chain.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

struct ReadFrame {
    FrameHead head;
    std::string_view stored;  // the data as in the file
    bool link_ok = false;     // head.link == chain_link(head.prev, type, index, stored)
    /// The batch's encoding (stored, decompressed in .zst files); empty with `payload_error`
    /// set when a zstd frame does not decompress.
    std::string_view payload;
    std::string payload_error;
};

struct ReadEnd {
    enum class How {
        Complete,   // ended on a frame boundary
        Incomplete, // ends inside a frame: a crash while writing, or a cut
        Corrupt,    // not a chain header where one must be
    };
    How how = How::Complete;
    std::uint64_t frames = 0; // whole frames read
    std::string detail;
};

/// Calls `on_frame` for every whole frame of `path` in order (false from it stops the read).
/// Without `decompress`, ReadFrame::payload of a .zst file stays empty (the chain alone is
/// checked faster). Err only when the file cannot be opened or read at all.
Result<ReadEnd, std::string> read_log_file(const std::filesystem::path& path, LogFormat format,
                                           bool compressed,
                                           const std::function<bool(const ReadFrame&)>& on_frame,
                                           bool decompress = true);

} // namespace idpath::mirror
