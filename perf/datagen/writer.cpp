#include "perf/datagen/writer.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "perf/datagen/json_line.hpp"

namespace idpath::datagen {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

bool flush(std::string& buf, std::FILE* f)
{
    const bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    buf.clear();
    return ok;
}

std::string io_error(std::string_view what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

/// Identifiers per chunk: ~2.5 MB of lines, enough to make hand-offs rare.
constexpr std::uint64_t kIdsPerChunk = 4096;

struct Chunk {
    std::string lines;
    std::string names;
    std::uint64_t values = 0;
    std::uint64_t number = 0; // which chunk the slot holds or waits for
    bool ready = false;
};

void fill(const Generator& gen, std::uint64_t first, std::uint64_t end, bool with_names, Chunk& c)
{
    c.lines.clear();
    c.names.clear();
    c.values = 0;
    Identifier id;
    for (std::uint64_t i = first; i < end; ++i) {
        gen.make(i, id);
        append_json_line(id, c.lines);
        c.values += id.count;
        if (with_names)
            c.names.append(id.handle).push_back('\n');
    }
}

/// Chunks k = 0, 1, ... go through slot k % slots.size(): a generator claims the next chunk
/// number, waits for its slot to be written out, fills it outside the lock and marks it ready;
/// the writer takes the slots in chunk order.
class Pipeline {
public:
    Pipeline(const Generator& gen, std::uint64_t count, bool with_names, unsigned threads)
        : gen_(gen), count_(count), with_names_(with_names), slots_(2 * threads)
    {
        for (std::size_t k = 0; k < slots_.size(); ++k)
            slots_[k].number = k;
        for (unsigned t = 0; t < threads; ++t)
            workers_.emplace_back([this] { produce(); });
    }
    ~Pipeline()
    {
        {
            const std::lock_guard lock(mutex_);
            stop_ = true;
        }
        freed_.notify_all();
        for (auto& w : workers_)
            w.join();
    }

    std::uint64_t chunks() const noexcept { return (count_ + kIdsPerChunk - 1) / kIdsPerChunk; }

    /// Chunk k, once generated; pass it back with release(k).
    Chunk& take(std::uint64_t k)
    {
        std::unique_lock lock(mutex_);
        Chunk& c = slots_[k % slots_.size()];
        filled_.wait(lock, [&] { return c.ready && c.number == k; });
        return c;
    }
    void release(std::uint64_t k)
    {
        {
            const std::lock_guard lock(mutex_);
            Chunk& c = slots_[k % slots_.size()];
            c.ready = false;
            c.number = k + slots_.size();
        }
        freed_.notify_all();
    }

private:
    void produce()
    {
        for (;;) {
            const std::uint64_t k = next_.fetch_add(1);
            if (k >= chunks())
                return;
            Chunk& c = slots_[k % slots_.size()];
            {
                std::unique_lock lock(mutex_);
                freed_.wait(lock, [&] { return stop_ || (!c.ready && c.number == k); });
                if (stop_)
                    return;
            }
            const std::uint64_t first = k * kIdsPerChunk;
            fill(gen_, first, std::min(count_, first + kIdsPerChunk), with_names_, c);
            {
                const std::lock_guard lock(mutex_);
                c.ready = true;
            }
            filled_.notify_all();
        }
    }

    const Generator& gen_;
    const std::uint64_t count_;
    const bool with_names_;
    std::vector<Chunk> slots_;
    std::atomic<std::uint64_t> next_{0};
    std::mutex mutex_;
    std::condition_variable filled_;
    std::condition_variable freed_;
    bool stop_ = false;
    std::vector<std::thread> workers_; // last: started once everything above exists
};

} // namespace

Result<WriteSummary, std::string> write_dataset(const Generator& gen, std::uint64_t count, std::FILE* out,
                                                std::FILE* handles, unsigned threads)
{
    const auto start = std::chrono::steady_clock::now();
    if (threads == 0)
        threads = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
    WriteSummary s;
    Pipeline pipeline(gen, count, handles != nullptr, threads);
    for (std::uint64_t k = 0; k < pipeline.chunks(); ++k) {
        Chunk& c = pipeline.take(k);
        s.values += c.values;
        s.bytes += c.lines.size();
        s.handle_bytes += c.names.size();
        if (!flush(c.lines, out))
            return Err(io_error("out"));
        if (handles != nullptr && !flush(c.names, handles))
            return Err(io_error("handles-out"));
        pipeline.release(k);
    }
    if (std::fflush(out) != 0)
        return Err(io_error("out"));
    if (handles != nullptr && std::fflush(handles) != 0)
        return Err(io_error("handles-out"));
    s.identifiers = count;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
}

Result<WriteSummary, std::string> write_dataset(const Options& options)
{
    File out_file;
    std::FILE* out = stdout;
    if (!options.out.empty() && options.out != "-") {
        out_file.reset(std::fopen(options.out.c_str(), "wb"));
        if (!out_file)
            return Err(io_error(options.out));
        out = out_file.get();
    }
    File handles;
    if (!options.handles_out.empty()) {
        handles.reset(std::fopen(options.handles_out.c_str(), "wb"));
        if (!handles)
            return Err(io_error(options.handles_out));
    }
    const Generator gen(options.generator);
    auto r = write_dataset(gen, options.count, out, handles.get());
    if (!r)
        return r;
    // fclose reports what buffered writes could not (a full disk at the last block).
    if (out_file && std::fclose(out_file.release()) != 0)
        return Err(io_error(options.out));
    if (handles && std::fclose(handles.release()) != 0)
        return Err(io_error(options.handles_out));
    return r;
}

} // namespace idpath::datagen
