#pragma once
// Shared by the mirror core's tests: records and batches with chosen seqs, a temporary
// directory, a sink that fails on demand, and a bounded wait.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/mirror/core/batch.hpp"
#include "controlplane/mirror/core/sink.hpp"

namespace idpath::mirror::test {

inline querylog::Record record(std::uint16_t source, std::uint64_t seq, std::uint64_t time_ns = 0)
{
    querylog::Record r{};
    r.seq = seq;
    r.time_ns = time_ns != 0 ? time_ns : 1'795'000'000'000'000'000ull + seq;
    r.source = source;
    r.kind = querylog::Kind::Query;
    r.family = 4;
    r.transport = querylog::Transport::Udp;
    r.response_code = 1;
    return r;
}

/// Batch `id` holding `n` records of `source` with seqs first_seq, first_seq + 1, ...
inline Batch batch(std::uint64_t id, std::uint16_t source, std::uint64_t first_seq, std::size_t n,
                   std::uint64_t time_ns = 0)
{
    Batch b;
    b.id = id;
    for (std::size_t i = 0; i < n; ++i)
        b.records.push_back(record(source, first_seq + i, time_ns));
    return b;
}

class TempDir {
public:
    TempDir()
    {
        std::string t = (std::filesystem::temp_directory_path() / "idpath-mirror-XXXXXX").string();
        if (::mkdtemp(t.data()) != nullptr)
            path_ = t;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline std::size_t segment_files(const std::filesystem::path& dir)
{
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        n += e.path().extension() == ".seg";
    return n;
}

/// Waits up to 10 s for `done`.
inline bool eventually(const std::function<bool()>& done)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

/// A sink that records what it is given and fails, or is not ready, when told.
class FakeSink : public Sink {
public:
    std::string kind() const override { return "fake"; }

    Result<void, std::string> deliver(const Batch& b) override
    {
        std::lock_guard lock(mutex_);
        ++calls_;
        if (fail_)
            return Err(std::string("fake: connection refused"));
        delivered_.push_back(b);
        return {};
    }
    bool ready() override
    {
        std::lock_guard lock(mutex_);
        return ready_;
    }
    void tick() override
    {
        std::lock_guard lock(mutex_);
        ++ticks_;
    }

    void set_fail(bool f)
    {
        std::lock_guard lock(mutex_);
        fail_ = f;
    }
    void set_ready(bool r)
    {
        std::lock_guard lock(mutex_);
        ready_ = r;
    }
    std::vector<Batch> delivered() const
    {
        std::lock_guard lock(mutex_);
        return delivered_;
    }
    std::size_t delivered_count() const
    {
        std::lock_guard lock(mutex_);
        return delivered_.size();
    }
    std::size_t delivered_records() const
    {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& b : delivered_)
            n += b.size();
        return n;
    }
    std::size_t calls() const
    {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    std::size_t ticks() const
    {
        std::lock_guard lock(mutex_);
        return ticks_;
    }

private:
    mutable std::mutex mutex_;
    bool fail_ = false;
    bool ready_ = true;
    std::size_t calls_ = 0;
    std::size_t ticks_ = 0;
    std::vector<Batch> delivered_;
};

} // namespace idpath::mirror::test
