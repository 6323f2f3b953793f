#include "controlplane/mirror/file/log_cat.hpp"

#include "controlplane/mirror/core/encode.hpp"
#include "controlplane/mirror/file/log_reader.hpp"

namespace idpath::mirror {

Result<void, std::string> cat_log_file(const std::filesystem::path& path,
                                       const std::function<void(std::string_view)>& write)
{
    std::string name = path.filename().string();
    const bool compressed = name.ends_with(".zst");
    if (compressed)
        name.resize(name.size() - 4);
    LogFormat format;
    if (name.ends_with(".ipl"))
        format = LogFormat::Binary;
    else if (name.ends_with(".jsonl"))
        format = LogFormat::Json;
    else
        return Err(path.string() + ": not a log file (.ipl or .jsonl, optionally .zst)");

    std::string problem;
    std::string json;
    const auto read = read_log_file(path, format, compressed, [&](const ReadFrame& f) {
        if (f.head.type != FrameType::Batch)
            return true;
        if (!f.payload_error.empty()) {
            problem = "batch " + std::to_string(f.head.index) + ": " + f.payload_error;
            return false;
        }
        if (format == LogFormat::Json) {
            write(f.payload);
            return true;
        }
        for (ByteSpan in = as_bytes(f.payload); !in.empty();) {
            std::size_t used = 0;
            const auto d = decode_binary(in, used);
            if (!d) {
                problem = "batch " + std::to_string(f.head.index) + ": " + d.error();
                return false;
            }
            json.clear();
            encode_json_lines(d->batch, d->origin, json);
            write(json);
            in = in.subspan(used);
        }
        return true;
    });
    if (!read)
        return Err(read.error());
    if (!problem.empty())
        return Err(path.string() + ": " + problem);
    if (read->how != ReadEnd::How::Complete)
        return Err(path.string() + ": after " + std::to_string(read->frames) + " frames: " + read->detail);
    return {};
}

} // namespace idpath::mirror
