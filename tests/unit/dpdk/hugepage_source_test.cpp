// The table in DPDK's hugepage heap (drivers/dpdk/hugepage_source.hpp), against the real EAL.
// Built twice: with hugepages (reserving a few 2 MB pages for the test, and giving them back),
// and with IDPATH_TEST_NO_HUGE, EAL --no-huge, where the table stays in anonymous memory. One
// EAL per process, so one test per executable does it all.

#include "drivers/dpdk/hugepage_source.hpp"

#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "dataplane/table/table.hpp"
#include "drivers/dpdk/eal.hpp"

namespace idpath::dpdk {
namespace {

constexpr const char* kPages = "/sys/kernel/mm/hugepages/hugepages-2048kB/";

long read_count(const std::string& name)
{
    std::ifstream in(kPages + name);
    long n = -1;
    in >> n;
    return n;
}

bool write_count(const std::string& name, long n)
{
    std::ofstream out(kPages + name);
    out << n << '\n';
    out.flush();
    return static_cast<bool>(out);
}

/// At least `want` free 2 MB pages while it lives; the system's count restored after.
class Reservation {
public:
    explicit Reservation(long want)
    {
        original_ = read_count("nr_hugepages");
        const long free = read_count("free_hugepages");
        if (original_ < 0 || free < 0)
            return;
        if (free < want && (::geteuid() != 0 || !write_count("nr_hugepages", original_ + want - free)))
            return;
        ok_ = read_count("free_hugepages") >= want;
    }
    ~Reservation()
    {
        if (original_ >= 0 && read_count("nr_hugepages") != original_)
            (void)write_count("nr_hugepages", original_);
    }
    bool ok() const noexcept { return ok_; }

private:
    long original_ = -1;
    bool ok_ = false;
};

std::shared_ptr<const table::Table> small_table()
{
    table::TableBuilder b;
    for (int i = 0; i < 2000; ++i) {
        wire::HandleValue v;
        v.index = 1;
        v.type = "URL";
        const std::string data = "https://example.org/" + std::to_string(i);
        v.data.assign(data.begin(), data.end());
        EXPECT_TRUE(b.add("88.100.1/" + std::to_string(i), {v}));
    }
    return std::move(b).build();
}

const void* record_of(const table::Table& t, const std::string& handle)
{
    const auto rec = t.find(handle);
    return rec ? static_cast<const void*>(rec->encoded.data()) : nullptr;
}

EalOptions options(bool no_huge)
{
    EalOptions o;
    o.file_prefix = no_huge ? "idpath-hp-test-nohuge" : "idpath-hp-test";
    o.no_huge = no_huge;
    o.memory_mb = no_huge ? 64 : 0; // with hugepages: none up front, the heap grows on demand
    o.no_pci = true;
    o.log_level = 3;
    return o;
}

#ifndef IDPATH_TEST_NO_HUGE

TEST(HugepageSource, TableBlocksComeFromHugepagesAndFallBackWhenTheyRunOut)
{
    Reservation pages(64); // 128 MB
    if (!pages.ok())
        GTEST_SKIP() << "cannot reserve 64 free 2 MB hugepages (needs root)";
    auto eal = Eal::init(options(false));
    ASSERT_TRUE(eal.ok()) << eal.error();

    auto before = small_table(); // built before the hook: the default path
    EXPECT_FALSE(in_dpdk_hugepages(record_of(*before, "88.100.1/7")));

    HugepageSource& source = HugepageSource::instance();
    ASSERT_TRUE(source.install(-1));
    EXPECT_EQ(table::block_source(), &source);
    const table::BlockUsage start = table::block_usage();
    auto t = small_table();
    EXPECT_TRUE(in_dpdk_hugepages(record_of(*t, "88.100.1/7")));
    EXPECT_TRUE(in_dpdk_hugepages(record_of(*t, "88.100.1/1999")));
    const table::BlockUsage built = table::block_usage();
    EXPECT_GE(built.source_bytes - start.source_bytes, t->memory_bytes());
    EXPECT_EQ(built.default_bytes, start.default_bytes); // the builder's chunks were hugepages too
    EXPECT_EQ(built.fallbacks, start.fallbacks);
    EXPECT_STREQ(built.source_name, "dpdk-hugepages");

    // More than the reservation: anonymous memory, counted, still zeroed.
    table::Buffer big(std::size_t{1} << 30);
    EXPECT_EQ(big.source(), nullptr);
    EXPECT_FALSE(in_dpdk_hugepages(big.data()));
    EXPECT_EQ(big.data()[(std::size_t{1} << 30) - 1], 0);
    EXPECT_EQ(table::block_usage().fallbacks, start.fallbacks + 1);

    // Freed on another thread, into the heap.
    std::thread([&t] { t.reset(); }).join();
    EXPECT_EQ(table::block_usage().source_bytes, start.source_bytes);
    before.reset();

    // A block outliving EAL is not handed to rte_free on an unmapped heap, only counted.
    table::Buffer late(4096);
    ASSERT_EQ(late.source(), &source);
    eal->reset();
    EXPECT_EQ(table::block_source(), nullptr);
    late = table::Buffer();
    EXPECT_EQ(source.released_after_cleanup(), 1u);
    table::Buffer after(4096);
    EXPECT_EQ(after.source(), nullptr);
}

#else

TEST(HugepageSource, NoHugeKeepsTheTableInAnonymousMemory)
{
    auto eal = Eal::init(options(true));
    ASSERT_TRUE(eal.ok()) << eal.error();
    const std::uint64_t fallbacks = table::block_usage().fallbacks;
    EXPECT_FALSE(HugepageSource::instance().install(-1));
    EXPECT_EQ(table::block_source(), nullptr);
    auto t = small_table();
    EXPECT_FALSE(in_dpdk_hugepages(record_of(*t, "88.100.1/7")));
    EXPECT_EQ(table::block_usage().source_bytes, 0u);
    EXPECT_EQ(table::block_usage().fallbacks, fallbacks);
    t.reset();
    eal->reset();
}

#endif

} // namespace
} // namespace idpath::dpdk
