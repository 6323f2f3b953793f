#include "controlplane/mirror/file/log_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <zstd.h>

#include "drivers/socket/unique_fd.hpp"

namespace idpath::mirror {

namespace {

/// Decompresses the zstd frame(s) of one frame's data into `out`.
bool decompress(ZSTD_DCtx* dctx, std::string_view in, std::string& out, std::string& error)
{
    out.clear();
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    ZSTD_inBuffer zin{in.data(), in.size(), 0};
    std::size_t hint = 1;
    while (zin.pos < zin.size || hint != 0) {
        const std::size_t before = out.size();
        const std::size_t room = ZSTD_DStreamOutSize();
        if (before + room > kMaxFrameData) {
            error = "decompresses to more than any batch";
            return false;
        }
        out.resize(before + room);
        ZSTD_outBuffer zout{out.data() + before, room, 0};
        hint = ZSTD_decompressStream(dctx, &zout, &zin);
        out.resize(before + zout.pos);
        if (ZSTD_isError(hint)) {
            error = std::string("zstd: ") + ZSTD_getErrorName(hint);
            return false;
        }
        if (zin.pos == zin.size && hint != 0 && zout.pos < room) {
            error = "zstd: frame cut short";
            return false;
        }
    }
    return true;
}

} // namespace

Result<ReadEnd, std::string> read_log_file(const std::filesystem::path& path, LogFormat format,
                                           bool compressed,
                                           const std::function<bool(const ReadFrame&)>& on_frame,
                                           bool decompress_payload)
{
    const socket::UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.valid())
        return Err("open " + path.string() + ": " + std::strerror(errno));
    const std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(compressed ? ZSTD_createDCtx() : nullptr,
                                                                   ZSTD_freeDCtx);
    if (compressed && !dctx)
        return Err(std::string("out of memory for zstd"));

    ReadEnd end;
    std::string buf; // file octets not yet handed out
    std::string plain;
    constexpr std::size_t chunk = 1 << 20;
    bool eof = false;
    while (true) {
        // Whole frames at the front of `buf`.
        std::size_t used = 0;
        while (true) {
            const std::string_view rest = std::string_view(buf).substr(used);
            if (rest.empty())
                break;
            const ParsedHeader h = parse_chain_header(format, compressed, rest);
            if (h.status == ParsedHeader::Status::Bad) {
                end.how = ReadEnd::How::Corrupt;
                end.detail = "no chain header where frame " + std::to_string(end.frames) + " should start";
                return end;
            }
            if (h.status == ParsedHeader::Status::NeedMore || rest.size() - h.size < h.head.size)
                break; // the buffer grows by what the file holds, never by what a header claims
            ReadFrame f;
            f.head = h.head;
            f.stored = rest.substr(h.size, h.head.size);
            f.link_ok = chain_link(f.head.prev, f.head.type, f.head.index, as_bytes(f.stored)) == f.head.link;
            if (!compressed)
                f.payload = f.stored;
            else if (decompress_payload && !f.stored.empty() && decompress(dctx.get(), f.stored, plain, f.payload_error))
                f.payload = plain;
            ++end.frames;
            used += h.size + h.head.size;
            if (!on_frame(f))
                return end;
        }
        buf.erase(0, used);
        if (eof)
            break;
        const std::size_t before = buf.size();
        buf.resize(before + chunk);
        ssize_t n;
        do
            n = ::read(file.get(), buf.data() + before, chunk);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return Err("read " + path.string() + ": " + std::strerror(errno));
        buf.resize(before + static_cast<std::size_t>(n));
        eof = n == 0;
    }
    if (!buf.empty()) {
        end.how = ReadEnd::How::Incomplete;
        end.detail = "ends inside frame " + std::to_string(end.frames) + " (" + std::to_string(buf.size()) +
                     " octets after the last whole frame)";
    }
    return end;
}

} // namespace idpath::mirror
