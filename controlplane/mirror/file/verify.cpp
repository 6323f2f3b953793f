#include "controlplane/mirror/file/verify.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <system_error>

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/file/log_reader.hpp"

namespace idpath::mirror {

namespace fs = std::filesystem;

const char* status_name(VerifyReport::Status s) noexcept
{
    switch (s) {
    case VerifyReport::Status::Intact: return "intact";
    case VerifyReport::Status::Tampered: return "tampered";
    case VerifyReport::Status::Missing: return "missing";
    case VerifyReport::Status::Truncated: return "truncated";
    }
    return "?";
}

namespace {

using File = std::pair<LogFileName, fs::path>;

bool fail(VerifyReport& r, VerifyReport::Status s, const fs::path& file, std::uint64_t frame, std::string problem)
{
    r.status = s;
    r.file = file.filename().string();
    r.frame = frame;
    r.problem = std::move(problem);
    return false;
}

/// One node's files in sequence order; false at the first problem (recorded in `r`).
bool verify_chain(const std::vector<File>& files, VerifyReport& r)
{
    std::optional<Link> carried;  // the last link of the files before, once there is one
    bool carried_sealed = true;   // whether that file ended in its seal
    /// The last file before, if it did not end cleanly (unsealed, or inside a frame): if the
    /// next file does not carry on, the blame is its, at the frame where it ends.
    const fs::path* open_end = nullptr;
    std::uint64_t open_end_frame = 0;
    bool open_end_inside = false;
    const fs::path* carried_file = nullptr;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const LogFileName& name = files[i].first;
        const fs::path& path = files[i].second;
        const bool newest = i + 1 == files.size();
        ++r.files;
        Link last{};
        std::uint64_t index = 0;
        bool sealed = false;
        bool good = true;
        const auto read = read_log_file(path, name.format, name.compressed, [&](const ReadFrame& f) {
            if (!f.link_ok)
                return good = fail(r, VerifyReport::Status::Tampered, path, index,
                                   "contents do not match the batch's link (edited)");
            if (sealed)
                return good = fail(r, VerifyReport::Status::Tampered, path, index, "data after the file's seal");
            if (f.head.index != index)
                return good = fail(r, VerifyReport::Status::Tampered, path, index,
                                   "frame says it is number " + std::to_string(f.head.index) +
                                       " (batches removed or reordered)");
            if (index == 0) {
                const Link expected = carried ? *carried : Link{};
                if (f.head.prev == expected) {
                    if (carried && !carried_sealed)
                        r.notes.push_back(carried_file->filename().string() +
                                          ": not sealed (the writer stopped without closing it: a crash); "
                                          "the chain carries on intact");
                } else if (open_end != nullptr) {
                    return good = fail(r, open_end_inside ? VerifyReport::Status::Tampered
                                                          : VerifyReport::Status::Missing,
                                       *open_end, open_end_frame,
                                       std::string(open_end_inside ? "damaged from here to its end"
                                                                   : "its end is missing (batches or the seal removed)") +
                                           ": " + path.filename().string() + " carries on from elsewhere");
                } else if (carried) {
                    return good = fail(r, VerifyReport::Status::Missing, path, 0,
                                       "does not carry on from " + carried_file->filename().string() +
                                           " (a file between them removed)");
                } else {
                    r.notes.push_back(path.filename().string() +
                                      ": the chain starts after earlier files that are gone (retention)");
                }
            } else if (f.head.prev != last) {
                return good = fail(r, VerifyReport::Status::Tampered, path, index,
                                   "does not follow the batch before it (batches removed or reordered)");
            }
            if (f.head.type == FrameType::Seal) {
                sealed = true;
            } else {
                if (!f.payload_error.empty())
                    return good = fail(r, VerifyReport::Status::Tampered, path, index,
                                       "batch does not decompress: " + f.payload_error);
                if (name.format == LogFormat::Binary) {
                    std::size_t used = 0;
                    const auto d = decode_binary(as_bytes(f.payload), used);
                    if (!d || used != f.payload.size())
                        return good = fail(r, VerifyReport::Status::Tampered, path, index,
                                           "batch does not decode: " + (d ? std::string("trailing octets") : d.error()));
                }
                ++r.batches;
            }
            last = f.head.link;
            ++index;
            return true;
        });
        if (!read)
            return fail(r, VerifyReport::Status::Tampered, path, 0, read.error());
        if (!good)
            return false;
        if (read->how == ReadEnd::How::Corrupt)
            return fail(r, VerifyReport::Status::Tampered, path, index, read->detail);
        if (read->how == ReadEnd::How::Incomplete) {
            if (newest)
                return fail(r, VerifyReport::Status::Truncated, path, index,
                            "the file ends inside its last frame: a crash while writing, or a cut (" +
                                read->detail + ")");
            r.notes.push_back(path.filename().string() + ": ends inside batch " + std::to_string(index) +
                              " (a crash while writing)");
        }
        if (index > 0) {
            carried = last;
            carried_sealed = sealed;
            carried_file = &path;
        }
        const bool inside = read->how == ReadEnd::How::Incomplete;
        if (inside || (index > 0 && !sealed)) {
            open_end = &path;
            open_end_frame = index;
            open_end_inside = inside;
        } else if (index > 0) {
            open_end = nullptr;
        }
    }
    return true;
}

} // namespace

VerifyReport verify_log_directory(const fs::path& dir)
{
    VerifyReport r;
    std::map<std::string, std::vector<File>> by_node;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        auto name = parse_log_file_name(it->path().filename().string());
        std::error_code type_ec;
        if (name && it->is_regular_file(type_ec))
            by_node[name->node].emplace_back(std::move(*name), it->path());
    }
    if (ec) {
        fail(r, VerifyReport::Status::Missing, dir, 0, "cannot read the directory: " + ec.message());
        r.file = dir.string();
        return r;
    }
    for (auto& [node, files] : by_node) {
        std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.first.seq < b.first.seq; });
        if (!verify_chain(files, r))
            return r;
    }
    return r;
}

} // namespace idpath::mirror
