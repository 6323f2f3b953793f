// Snapshot files on disk (controlplane/snapshot): save and load round trip, atomic saves that
// fail cleanly, load errors naming the file, the JSON description.

#include "controlplane/snapshot/snapshot_file.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "controlplane/snapshot/snapshot_describe.hpp"
#include "tests/unit/table/snapshot_test_util.hpp"

namespace idpath::snapshot {
namespace {

namespace fs = std::filesystem;
using table::testing::Fixture;
using table::testing::random_table;

const table::snapshot::SnapshotMeta kMeta{1750000000, "file test"};

class SnapshotFile : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string tmpl = (fs::temp_directory_path() / "idpath-snap.XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override
    {
        std::error_code ec;
        fs::permissions(dir_, fs::perms::owner_all, ec);
        fs::remove_all(dir_, ec);
    }
    /// Names in the directory, to show nothing was left behind.
    std::vector<std::string> entries() const
    {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir_))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
    static std::vector<char> read(const fs::path& p)
    {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }

    fs::path dir_;
};

TEST_F(SnapshotFile, SavesAndLoads)
{
    Fixture f = random_table(20000, 1);
    table::testing::churn(f, 2000, 2);
    const fs::path path = dir_ / "t.snap";
    auto saved = save_snapshot(*f.table, path, kMeta);
    ASSERT_TRUE(saved.ok()) << saved.error();
    EXPECT_EQ(saved->records, f.oracle.size());
    EXPECT_EQ(saved->bytes, fs::file_size(path));
    EXPECT_EQ(entries(), std::vector<std::string>{"t.snap"});

    auto loaded = load_snapshot_file(path);
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    EXPECT_EQ(loaded->records, f.oracle.size());
    EXPECT_EQ(loaded->bytes, saved->bytes);
    EXPECT_EQ(loaded->source, "file test");
    EXPECT_EQ(loaded->created_unix, 1750000000);
    EXPECT_GE(loaded->seconds, 0.0);
    table::testing::expect_content(*loaded->table, f);
    table::testing::expect_same_image(*f.table, *loaded->table);
}

TEST_F(SnapshotFile, SaveReplacesAnOldSnapshot)
{
    const fs::path path = dir_ / "t.snap";
    ASSERT_TRUE(save_snapshot(*random_table(10, 1).table, path, kMeta).ok());
    const Fixture f = random_table(500, 2);
    ASSERT_TRUE(save_snapshot(*f.table, path, kMeta).ok());
    auto loaded = load_snapshot_file(path);
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    table::testing::expect_content(*loaded->table, f);
    EXPECT_EQ(entries(), std::vector<std::string>{"t.snap"});
}

TEST_F(SnapshotFile, SaveOverADirectoryFailsAndLeavesNothing)
{
    const fs::path path = dir_ / "taken";
    fs::create_directory(path);
    auto r = save_snapshot(*random_table(10, 1).table, path, kMeta);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "snapshot: rename to " + path.string() + ": Is a directory");
    EXPECT_EQ(entries(), std::vector<std::string>{"taken"});
    EXPECT_TRUE(fs::is_directory(path));
}

TEST_F(SnapshotFile, SaveIntoAMissingDirectoryFails)
{
    const fs::path path = dir_ / "nope" / "t.snap";
    auto r = save_snapshot(*random_table(10, 1).table, path, kMeta);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "snapshot: create " + path.string() + ".tmp: No such file or directory");
    EXPECT_TRUE(entries().empty());
}

/// Failures root cannot get around: the parent is a file (open fails), the name is a directory
/// (rename fails after the whole file was written). Neither leaves a temporary file behind.
TEST_F(SnapshotFile, SaveWhereNoFileCanBeFails)
{
    { std::ofstream(dir_ / "plain") << "x"; }
    auto r = save_snapshot(*random_table(10, 1).table, dir_ / "plain" / "t.snap", kMeta);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("Not a directory"), std::string::npos) << r.error();

    fs::create_directory(dir_ / "a-dir");
    r = save_snapshot(*random_table(10, 1).table, dir_ / "a-dir", kMeta);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("a-dir"), std::string::npos) << r.error();
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a-dir", "plain"}));
}

/// A write that fails half way (the file size limit stands in for a full disk) removes the
/// temporary file and leaves the old snapshot as it was.
TEST_F(SnapshotFile, FailedWriteKeepsTheOldSnapshot)
{
    const fs::path path = dir_ / "t.snap";
    ASSERT_TRUE(save_snapshot(*random_table(10, 1).table, path, kMeta).ok());
    const auto before = read(path);

    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 64 << 10;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    auto r = save_snapshot(*random_table(5000, 2).table, path, kMeta);
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);

    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().rfind("snapshot: ", 0), 0u) << r.error();
    EXPECT_NE(r.error().find(path.string() + ".tmp: File too large"), std::string::npos) << r.error();
    EXPECT_EQ(entries(), std::vector<std::string>{"t.snap"});
    EXPECT_EQ(read(path), before);
}

TEST_F(SnapshotFile, LoadErrorsNameTheFile)
{
    const fs::path missing = dir_ / "missing.snap";
    auto r = load_snapshot_file(missing);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "snapshot: open " + missing.string() + ": No such file or directory");

    const fs::path empty = dir_ / "empty.snap";
    std::ofstream(empty).close();
    r = load_snapshot_file(empty);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), empty.string() + ": snapshot: not a snapshot file (no IDPSNAP magic)");

    r = load_snapshot_file(dir_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "snapshot: " + dir_.string() + ": not a regular file");
}

TEST_F(SnapshotFile, LoadRefusesADamagedShard)
{
    const fs::path path = dir_ / "t.snap";
    ASSERT_TRUE(save_snapshot(*random_table(150000, 4).table, path, kMeta).ok());
    auto bytes = read(path);
    auto d = describe_snapshot_file(path, {.shards = true, .verify = true});
    ASSERT_TRUE(d.ok()) << d.error();
    ASSERT_GE((*d)["shards"].get<std::size_t>(), 2u);
    const auto last = (*d)["shards"].get<std::size_t>() - 1;
    const auto at = (*d)["shard_list"][last]["offset"].get<std::size_t>() + 100;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

    auto r = load_snapshot_file(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), path.string() + ": snapshot: shard " + std::to_string(last) + ": checksum mismatch");

    d = describe_snapshot_file(path, {.shards = false, .verify = true});
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_FALSE((*d)["verified"].get<bool>());
    EXPECT_EQ((*d)["errors"][0], "snapshot: shard " + std::to_string(last) + ": checksum mismatch");
}

TEST_F(SnapshotFile, Describes)
{
    const fs::path path = dir_ / "t.snap";
    const Fixture f = random_table(100, 5);
    ASSERT_TRUE(save_snapshot(*f.table, path, kMeta).ok());
    auto d = describe_snapshot_file(path, {.shards = false, .verify = true});
    ASSERT_TRUE(d.ok()) << d.error();
    const auto& j = *d;
    EXPECT_EQ(j["file"], path.string());
    EXPECT_EQ(j["format_version"], 1);
    EXPECT_EQ(j["layout_version"], 1);
    EXPECT_EQ(j["checksum"], "xxh3-64");
    EXPECT_EQ(j["records"], 100);
    EXPECT_EQ(j["value_bytes"], f.table->value_bytes());
    EXPECT_EQ(j["created"], "2025-06-15T15:06:40Z");
    EXPECT_EQ(j["source"], "file test");
    EXPECT_EQ(j["homed"], (nlohmann::json{"86.5", "88.100.1"}));
    EXPECT_EQ(j["file_bytes"], fs::file_size(path));
    EXPECT_EQ(j["verified"], true);
    EXPECT_FALSE(j.contains("shard_list"));
}

} // namespace
} // namespace idpath::snapshot
