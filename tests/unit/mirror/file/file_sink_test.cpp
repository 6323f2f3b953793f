// The file sink (controlplane/mirror/file): names that never collide, rotation by size and by
// time, retention that deletes only this node's old files, and a hash chain that `logs verify`
// checks: intact directories pass; an edited byte, a removed or reordered batch, a removed middle
// file and a truncated newest file each fail, at the right file and batch.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zstd.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "controlplane/mirror/file/file_sink.hpp"
#include "controlplane/mirror/file/log_cat.hpp"
#include "controlplane/mirror/file/verify.hpp"

namespace idpath::mirror {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Status = VerifyReport::Status;

const Origin kOrigin{"node-a", "0.6.0"};

class TempDir {
public:
    TempDir()
    {
        std::string t = (fs::temp_directory_path() / "idpath-filesink.XXXXXX").string();
        path_ = ::mkdtemp(t.data());
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// A settable wall clock shared with the sink.
struct FakeClock {
    std::shared_ptr<std::chrono::system_clock::time_point> now =
        std::make_shared<std::chrono::system_clock::time_point>(
            std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 2h + 40min);
    std::function<std::chrono::system_clock::time_point()> fn() const
    {
        return [n = now] { return *n; };
    }
};

Batch batch(std::uint64_t id, std::size_t records)
{
    Batch b;
    b.id = id;
    for (std::size_t i = 0; i < records; ++i) {
        querylog::Record r{};
        r.kind = querylog::Kind::Query;
        r.seq = id * 1000 + i;
        r.time_ns = 1'795'401'636'000'000'000ull + i;
        r.family = 4;
        r.transport = querylog::Transport::Udp;
        r.opcode = 1;
        r.response_code = 1;
        const std::string h = "20.500/" + std::to_string(r.seq);
        querylog::set_handle(r, reinterpret_cast<const std::uint8_t*>(h.data()), h.size());
        b.records.push_back(r);
    }
    b.events.push_back({id, 1'795'401'637'000'000'000ull, "admin", {{"command", "reload"}}});
    return b;
}

std::vector<fs::path> files_in(const fs::path& dir)
{
    std::vector<fs::path> v;
    for (const auto& e : fs::directory_iterator(dir))
        v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

std::string slurp(const fs::path& p)
{
    std::string s(fs::file_size(p), '\0');
    std::ifstream(p, std::ios::binary).read(s.data(), static_cast<std::streamsize>(s.size()));
    return s;
}

void spit(const fs::path& p, const std::string& s)
{
    std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

/// The log frames of a compressed file, each as its own string: a zstd skippable frame (the
/// chain header) and the zstd frame of its batch after it, if any.
std::vector<std::string> zstd_frames(const std::string& file)
{
    std::vector<std::string> v;
    for (std::size_t at = 0; at < file.size();) {
        const std::size_t n = ZSTD_findFrameCompressedSize(file.data() + at, file.size() - at);
        EXPECT_FALSE(ZSTD_isError(n));
        if (ZSTD_isError(n))
            break;
        const bool skippable = static_cast<unsigned char>(file[at]) >> 4 == 0x5 && file.compare(at + 1, 3, "\x2a\x4d\x18") == 0;
        if (skippable || v.empty())
            v.emplace_back();
        v.back() += file.substr(at, n);
        at += n;
    }
    return v;
}

std::string join(const std::vector<std::string>& v)
{
    std::string s;
    for (const auto& x : v)
        s += x;
    return s;
}

std::unique_ptr<Sink> make(const FileSinkOptions& o, const Origin& origin = kOrigin)
{
    auto s = make_file_sink(o, origin);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
    return s.ok() ? std::move(s).value() : nullptr;
}

std::vector<nlohmann::json> cat(const fs::path& p)
{
    std::string text;
    const auto r = cat_log_file(p, [&](std::string_view s) { text += s; });
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    std::vector<nlohmann::json> v;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        v.push_back(nlohmann::json::parse(text.substr(start, nl - start)));
    return v;
}

/// Three sealed files of two batches each (binary, zstd), made by rotating on size.
struct ThreeFiles {
    TempDir dir;
    std::vector<fs::path> files;

    explicit ThreeFiles(int zstd_level = 3, LogFormat format = LogFormat::Binary)
    {
        FakeClock clock;
        FileSinkOptions o{dir.path(), format, 0, 0, 183, zstd_level, clock.fn()};
        auto sink = make(o);
        std::uint64_t id = 1;
        for (int f = 0; f < 3; ++f) {
            for (int b = 0; b < 2; ++b)
                EXPECT_TRUE(sink->deliver(batch(id++, 5)).ok());
            *clock.now += std::chrono::seconds(10);
            sink.reset(); // seals the file; the next sink carries the chain on in a new one
            sink = make(o);
        }
        sink.reset();
        files = files_in(dir.path());
    }
};

TEST(FileName, RoundTripAndForeignNames)
{
    LogFileName n{"node_a", std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 2h + 40min + 36s, 7,
                  LogFormat::Json, true};
    EXPECT_EQ(n.str(), "idpath-node_a-20261123T024036Z-00000007.jsonl.zst");
    const auto p = parse_log_file_name(n.str());
    ASSERT_TRUE(p);
    EXPECT_EQ(p->node, "node_a");
    EXPECT_EQ(p->start, n.start);
    EXPECT_EQ(p->seq, 7u);
    EXPECT_EQ(p->format, LogFormat::Json);
    EXPECT_TRUE(p->compressed);
    EXPECT_EQ(file_node_id("node-a/b c"), "node_a_b_c");
    for (const char* foreign : {"notes.txt", "idpath-node_a-20261123T024036Z-7.txt",
                                "idpath-node_a-20261323T024036Z-00000001.ipl", "idpath-node_a-20261123T024036Z-.ipl",
                                "idpath--20261123T024036Z-00000001.ipl", "idpath-node_a-20261123T024036Z-00000001.ipl.gz",
                                "xidpath-node_a-20261123T024036Z-00000001.ipl"})
        EXPECT_FALSE(parse_log_file_name(foreign)) << foreign;
}

TEST(FileSink, WritesReadableChainedFilesAndNeverOverwrites)
{
    TempDir dir;
    FakeClock clock;
    FileSinkOptions o{dir.path(), LogFormat::Binary, 0, 0, 183, 3, clock.fn()};
    {
        auto sink = make(o);
        EXPECT_EQ(sink->kind(), "file");
        ASSERT_TRUE(sink->deliver(batch(1, 3)).ok());
        ASSERT_TRUE(sink->deliver(batch(2, 3)).ok());
        EXPECT_TRUE(sink->flush(1s));
    }
    {
        // Same clock second: a restart must not reuse the name.
        auto sink = make(o);
        ASSERT_TRUE(sink->deliver(batch(3, 3)).ok());
    }
    const auto files = files_in(dir.path());
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].filename(), "idpath-node_a-20261123T024000Z-00000001.ipl.zst");
    EXPECT_EQ(files[1].filename(), "idpath-node_a-20261123T024000Z-00000002.ipl.zst");
    const auto lines = cat(files[0]);
    ASSERT_EQ(lines.size(), 8u); // 2 x (3 records + 1 event)
    EXPECT_EQ(lines[0]["seq"], 1000);
    EXPECT_EQ(lines[0]["handle"], "20.500/1000");
    EXPECT_EQ(lines[3]["kind"], "event");
    EXPECT_EQ(lines[4]["seq"], 2000);
    const auto r = verify_log_directory(dir.path());
    EXPECT_TRUE(r.ok()) << r.problem;
    EXPECT_EQ(r.files, 2u);
    EXPECT_EQ(r.batches, 3u);
}

TEST(FileSink, RotatesBySize)
{
    TempDir dir;
    FakeClock clock;
    FileSinkOptions o{dir.path(), LogFormat::Binary, 2000, 0, 183, 0, clock.fn()};
    auto sink = make(o);
    for (std::uint64_t id = 1; id <= 7; ++id)
        ASSERT_TRUE(sink->deliver(batch(id, 10)).ok());
    sink.reset();
    const auto files = files_in(dir.path());
    // A file closes at the first batch that takes it to 2000 octets or more (then its seal).
    const std::uint64_t frame = fs::file_size(files[0]) / 3;
    ASSERT_GE(files.size(), 2u);
    for (std::size_t i = 0; i + 1 < files.size(); ++i) {
        EXPECT_GE(fs::file_size(files[i]), 2000u) << i;
        EXPECT_LT(fs::file_size(files[i]), 2000u + 2 * frame) << i;
    }
    EXPECT_EQ(files[0].extension(), ".ipl");
    const auto r = verify_log_directory(dir.path());
    EXPECT_TRUE(r.ok()) << r.problem;
    EXPECT_EQ(r.batches, 7u);
}

TEST(FileSink, RotatesByTime)
{
    TempDir dir;
    FakeClock clock;
    FileSinkOptions o{dir.path(), LogFormat::Json, 0, 60, 183, 1, clock.fn()};
    auto sink = make(o);
    ASSERT_TRUE(sink->deliver(batch(1, 2)).ok());
    *clock.now += 59s;
    sink->tick();
    ASSERT_TRUE(sink->deliver(batch(2, 2)).ok());
    EXPECT_EQ(files_in(dir.path()).size(), 1u);
    *clock.now += 1s;
    sink->tick(); // 60 s old: closed
    *clock.now += 3600s;
    sink->tick(); // nothing open, nothing made
    EXPECT_EQ(files_in(dir.path()).size(), 1u);
    ASSERT_TRUE(sink->deliver(batch(3, 2)).ok());
    sink.reset();
    const auto files = files_in(dir.path());
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].filename(), "idpath-node_a-20261123T024000Z-00000001.jsonl.zst");
    EXPECT_EQ(files[1].filename(), "idpath-node_a-20261123T034100Z-00000002.jsonl.zst");
    EXPECT_EQ(cat(files[0]).size(), 6u);
    // zstd tools skip the chain headers: a .jsonl.zst decompresses to exactly the JSON lines.
    const std::string z = slurp(files[1]);
    std::string plain(1 << 16, '\0');
    const std::size_t n = ZSTD_decompress(plain.data(), plain.size(), z.data(), z.size());
    ASSERT_FALSE(ZSTD_isError(n));
    plain.resize(n);
    std::size_t lines = 0;
    for (std::size_t start = 0, nl; (nl = plain.find('\n', start)) != std::string::npos; start = nl + 1, ++lines)
        EXPECT_FALSE(nlohmann::json::parse(plain.substr(start, nl - start), nullptr, false).is_discarded());
    EXPECT_EQ(lines, 3u); // 2 records, 1 event
    const auto r = verify_log_directory(dir.path());
    EXPECT_TRUE(r.ok()) << r.problem;
}

TEST(FileSink, RetentionDeletesOnlyOwnOldFiles)
{
    TempDir dir;
    FakeClock clock;
    const auto now = *clock.now;
    // Our files from 200 and 100 days ago, another node's and foreign files.
    for (int days_ago : {200, 100}) {
        FakeClock then;
        *then.now = now - std::chrono::days(days_ago);
        FileSinkOptions o{dir.path(), LogFormat::Binary, 0, 0, 0, 3, then.fn()};
        ASSERT_TRUE(make(o)->deliver(batch(1, 1)).ok());
        ASSERT_TRUE(make(o, Origin{"other", "1"})->deliver(batch(1, 1)).ok());
    }
    spit(dir.path() / "notes.txt", "keep me");
    spit(dir.path() / "idpath-node_a-20200101T000000Z-00000009.ipl.bak", "keep me");
    fs::create_directory(dir.path() / "idpath-node_a-20200101T000000Z-00000010.ipl");
    ASSERT_EQ(files_in(dir.path()).size(), 7u);

    FileSinkOptions o{dir.path(), LogFormat::Binary, 0, 0, 183, 3, clock.fn()};
    auto sink = make(o);
    const auto files = files_in(dir.path());
    ASSERT_EQ(files.size(), 6u);
    for (const auto& f : files)
        EXPECT_EQ(f.filename().string().find("node_a-20260507"), std::string::npos) << f; // 200 days ago: gone
    EXPECT_TRUE(fs::exists(dir.path() / "notes.txt"));
    EXPECT_TRUE(fs::exists(dir.path() / "idpath-node_a-20200101T000000Z-00000009.ipl.bak"));
    EXPECT_TRUE(fs::is_directory(dir.path() / "idpath-node_a-20200101T000000Z-00000010.ipl"));
    // The 100-day-old file goes once it is 183 days old, at the next tick a minute later.
    *clock.now += std::chrono::days(84);
    sink->tick();
    EXPECT_EQ(files_in(dir.path()).size(), 5u);
    std::size_t others = 0;
    for (const auto& f : files_in(dir.path()))
        others += f.filename().string().starts_with("idpath-other-");
    EXPECT_EQ(others, 2u);
}

TEST(Verify, IntactAcrossFilesAndFormats)
{
    for (int level : {0, 3})
        for (LogFormat format : {LogFormat::Binary, LogFormat::Json}) {
            ThreeFiles t(level, format);
            ASSERT_EQ(t.files.size(), 3u);
            const auto r = verify_log_directory(t.dir.path());
            EXPECT_TRUE(r.ok()) << r.file << ": " << r.problem;
            EXPECT_EQ(r.files, 3u);
            EXPECT_EQ(r.batches, 6u);
            EXPECT_TRUE(r.notes.empty());
            for (const auto& f : t.files) {
                const auto lines = cat(f); // 2 batches of 5 records and an event
                ASSERT_EQ(lines.size(), 12u) << f;
                EXPECT_EQ(lines[5]["kind"], "event");
                EXPECT_EQ(lines[11]["fields"]["command"], "reload");
            }
        }
}

TEST(Verify, EveryFlippedByteIsCaught)
{
    for (int level : {0, 3})
        for (LogFormat format : {LogFormat::Binary, LogFormat::Json}) {
            ThreeFiles t(level, format);
            const fs::path victim = t.files[1];
            const std::string good = slurp(victim);
            // Every octet of the middle file, one at a time.
            for (std::size_t i = 0; i < good.size(); ++i) {
                std::string bad = good;
                bad[i] = static_cast<char>(bad[i] ^ 0x20);
                spit(victim, bad);
                const auto r = verify_log_directory(t.dir.path());
                EXPECT_FALSE(r.ok()) << "level " << level << " octet " << i;
                EXPECT_NE(r.status, Status::Truncated) << i;
                EXPECT_EQ(r.file, victim.filename().string()) << i;
            }
            spit(victim, good);
            EXPECT_TRUE(verify_log_directory(t.dir.path()).ok());
        }
}

TEST(Verify, RemovedOrReorderedBatch)
{
    ThreeFiles t;
    const fs::path victim = t.files[1];
    const std::string good = slurp(victim);
    auto frames = zstd_frames(good);
    ASSERT_EQ(frames.size(), 3u); // two batches and the seal
    {
        auto v = frames;
        v.erase(v.begin());
        spit(victim, join(v));
        const auto r = verify_log_directory(t.dir.path());
        EXPECT_EQ(r.status, Status::Tampered);
        EXPECT_EQ(r.file, victim.filename().string());
        EXPECT_EQ(r.frame, 0u);
    }
    {
        auto v = frames;
        v.erase(v.begin() + 1);
        spit(victim, join(v));
        const auto r = verify_log_directory(t.dir.path());
        EXPECT_EQ(r.status, Status::Tampered);
        EXPECT_EQ(r.frame, 1u);
    }
    {
        auto v = frames;
        std::swap(v[0], v[1]);
        spit(victim, join(v));
        const auto r = verify_log_directory(t.dir.path());
        EXPECT_EQ(r.status, Status::Tampered);
        EXPECT_EQ(r.frame, 0u);
    }
    {
        // The seal gone: the file is cut at a batch boundary, and the next file says so.
        auto v = frames;
        v.pop_back();
        spit(victim, join(v));
        const auto r = verify_log_directory(t.dir.path());
        EXPECT_EQ(r.status, Status::Missing);
        EXPECT_EQ(r.file, victim.filename().string());
        EXPECT_EQ(r.frame, 2u);
    }
    spit(victim, good);
    EXPECT_TRUE(verify_log_directory(t.dir.path()).ok());
}

TEST(Verify, RemovedMiddleFile)
{
    ThreeFiles t;
    fs::remove(t.files[1]);
    const auto r = verify_log_directory(t.dir.path());
    EXPECT_EQ(r.status, Status::Missing);
    EXPECT_EQ(r.file, t.files[2].filename().string());
    EXPECT_EQ(r.frame, 0u);
}

TEST(Verify, RemovedFirstFileIsRetentionNotTampering)
{
    ThreeFiles t;
    fs::remove(t.files[0]);
    const auto r = verify_log_directory(t.dir.path());
    EXPECT_TRUE(r.ok()) << r.problem;
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("retention"), std::string::npos);
}

TEST(Verify, TruncatedNewestFileThenRecovery)
{
    ThreeFiles t;
    const fs::path last = t.files[2];
    const std::string good = slurp(last);
    const auto frames = zstd_frames(good);
    // Cut inside the second batch's frame, as a crash mid-write leaves it.
    const std::string cut = frames[0] + frames[1].substr(0, frames[1].size() / 2);
    spit(last, cut);
    auto r = verify_log_directory(t.dir.path());
    EXPECT_EQ(r.status, Status::Truncated);
    EXPECT_EQ(r.file, last.filename().string());
    EXPECT_EQ(r.frame, 1u);
    // What survives is readable.
    std::string text;
    EXPECT_FALSE(cat_log_file(last, [&](std::string_view s) { text += s; }).ok());
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6);

    // The restarted sink carries the chain on from the last whole batch: intact, with a note.
    FakeClock clock;
    *clock.now += 1h;
    auto sink = make(FileSinkOptions{t.dir.path(), LogFormat::Binary, 0, 0, 183, 3, clock.fn()});
    ASSERT_TRUE(sink->deliver(batch(99, 1)).ok());
    sink.reset();
    r = verify_log_directory(t.dir.path());
    EXPECT_TRUE(r.ok()) << r.file << ": " << r.problem;
    EXPECT_EQ(r.files, 4u);
    EXPECT_EQ(r.batches, 6u);
    EXPECT_EQ(r.notes.size(), 2u); // ends inside a batch; not sealed
}

TEST(Verify, NewestFileOpenIsIntact)
{
    TempDir dir;
    FakeClock clock;
    auto sink = make(FileSinkOptions{dir.path(), LogFormat::Binary, 0, 0, 183, 3, clock.fn()});
    ASSERT_TRUE(sink->deliver(batch(1, 2)).ok());
    ASSERT_TRUE(sink->deliver(batch(2, 2)).ok());
    const auto r = verify_log_directory(dir.path()); // read while the sink holds it open
    EXPECT_TRUE(r.ok()) << r.problem;
    EXPECT_EQ(r.batches, 2u);
}

TEST(FileSink, RefusesBadOptions)
{
    EXPECT_FALSE(make_file_sink(FileSinkOptions{}, kOrigin).ok());
    TempDir dir;
    FileSinkOptions o;
    o.directory = dir.path();
    o.zstd_level = 99;
    EXPECT_FALSE(make_file_sink(o, kOrigin).ok());
    spit(dir.path() / "file", "x");
    o.zstd_level = 3;
    o.directory = dir.path() / "file" / "sub";
    EXPECT_FALSE(make_file_sink(o, kOrigin).ok());
}

} // namespace
} // namespace idpath::mirror
