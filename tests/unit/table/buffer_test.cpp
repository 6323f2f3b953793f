// table::Buffer's BlockSource hook: every block goes back to whoever allocated it, whatever is
// installed by the time it is freed.

#include "dataplane/table/buffer.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace idpath::table {
namespace {

class FakeSource final : public BlockSource {
public:
    void* allocate(std::size_t size) noexcept override
    {
        if (empty)
            return nullptr;
        void* p = std::aligned_alloc(64, (size + 63) / 64 * 64);
        std::memset(p, 0, size);
        const std::lock_guard lock(mutex);
        live.insert(p);
        return p;
    }
    void release(void* block, std::size_t) noexcept override
    {
        const std::lock_guard lock(mutex);
        EXPECT_EQ(live.erase(block), 1u) << "not ours";
        std::free(block);
    }
    const char* name() const noexcept override { return "fake"; }

    bool empty = false;
    std::mutex mutex;
    std::set<void*> live;
};

/// Leaves no source installed whatever the test does.
struct Uninstall {
    ~Uninstall() { set_block_source(nullptr); }
};

TEST(BufferSource, BlocksReturnToTheSourceThatAllocatedThem)
{
    Uninstall guard;
    FakeSource fake;
    const BlockUsage before = block_usage();
    Buffer anonymous(Buffer::kHugeThreshold); // before the hook
    EXPECT_EQ(anonymous.source(), nullptr);

    set_block_source(&fake);
    EXPECT_EQ(block_source(), &fake);
    Buffer small(100), large(Buffer::kHugeThreshold + 1);
    EXPECT_EQ(small.source(), &fake);
    EXPECT_EQ(large.source(), &fake);
    EXPECT_EQ(fake.live.size(), 2u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.data()) % 64, 0u);
    EXPECT_EQ(small.data()[99], 0);
    const BlockUsage during = block_usage();
    EXPECT_EQ(during.source_bytes - before.source_bytes, 100 + Buffer::kHugeThreshold + 1);
    EXPECT_STREQ(during.source_name, "fake");

    set_block_source(nullptr);
    Buffer after(64); // after the hook is cleared: the default path
    EXPECT_EQ(after.source(), nullptr);
    Buffer moved = std::move(large); // the source travels with the block
    EXPECT_EQ(moved.source(), &fake);
    EXPECT_EQ(large.source(), nullptr);
    small = Buffer(); // freed into the fake although it is no longer installed
    EXPECT_EQ(fake.live.size(), 1u);
    {
        Buffer gone = std::move(moved);
    }
    EXPECT_TRUE(fake.live.empty());
    EXPECT_EQ(block_usage().source_bytes, before.source_bytes);
}

TEST(BufferSource, AnEmptySourceFallsBackAndCounts)
{
    Uninstall guard;
    FakeSource fake;
    fake.empty = true;
    set_block_source(&fake);
    const std::uint64_t fallbacks = block_usage().fallbacks;
    Buffer b(Buffer::kHugeThreshold);
    EXPECT_EQ(b.source(), nullptr);
    ASSERT_NE(b.data(), nullptr);
    EXPECT_EQ(b.data()[Buffer::kHugeThreshold - 1], 0);
    EXPECT_EQ(block_usage().fallbacks, fallbacks + 1);
    Buffer none(0); // nothing asked, nothing failed
    EXPECT_EQ(block_usage().fallbacks, fallbacks + 1);
}

TEST(BufferSource, FreedOnAnotherThread)
{
    Uninstall guard;
    FakeSource fake;
    set_block_source(&fake);
    auto b = std::make_unique<Buffer>(4096);
    set_block_source(nullptr);
    std::thread([b = std::move(b)]() mutable { b.reset(); }).join();
    EXPECT_TRUE(fake.live.empty());
}

} // namespace
} // namespace idpath::table
