#include "dataplane/table/buffer.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <new>
#include <utility>

namespace idpath::table {
namespace {

constexpr std::align_val_t kAlign{64};

std::atomic<BlockSource*> g_source{nullptr};
std::atomic<const char*> g_source_name{nullptr};
std::atomic<std::size_t> g_source_bytes{0};
std::atomic<std::size_t> g_default_bytes{0};
std::atomic<std::uint64_t> g_fallbacks{0};

} // namespace

void set_block_source(BlockSource* source) noexcept
{
    if (source)
        g_source_name.store(source->name(), std::memory_order_relaxed);
    g_source.store(source, std::memory_order_release);
}

BlockSource* block_source() noexcept
{
    return g_source.load(std::memory_order_acquire);
}

BlockUsage block_usage() noexcept
{
    BlockUsage u;
    u.source_bytes = g_source_bytes.load(std::memory_order_relaxed);
    u.default_bytes = g_default_bytes.load(std::memory_order_relaxed);
    u.fallbacks = g_fallbacks.load(std::memory_order_relaxed);
    u.source_name = g_source_name.load(std::memory_order_relaxed);
    return u;
}

Buffer::Buffer(std::size_t size) : size_(size)
{
    if (size == 0)
        return;
    if (BlockSource* source = block_source()) {
        if (void* p = source->allocate(size)) {
            data_ = static_cast<std::uint8_t*>(p);
            source_ = source;
            g_source_bytes.fetch_add(size, std::memory_order_relaxed);
            return;
        }
        g_fallbacks.fetch_add(1, std::memory_order_relaxed);
    }
    if (size >= kHugeThreshold) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            throw std::bad_alloc();
        // Advice only: without THP the table works the same, with more TLB misses.
        (void)::madvise(p, size, MADV_HUGEPAGE);
        data_ = static_cast<std::uint8_t*>(p); // anonymous mappings are zero-filled
        mapped_ = true;
    } else {
        data_ = static_cast<std::uint8_t*>(::operator new(size, kAlign));
        std::memset(data_, 0, size);
    }
    g_default_bytes.fetch_add(size, std::memory_order_relaxed);
}

Buffer::~Buffer()
{
    release();
}

Buffer::Buffer(Buffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
      source_(std::exchange(o.source_, nullptr)), mapped_(std::exchange(o.mapped_, false))
{
}

Buffer& Buffer::operator=(Buffer&& o) noexcept
{
    if (this != &o) {
        release();
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
        source_ = std::exchange(o.source_, nullptr);
        mapped_ = std::exchange(o.mapped_, false);
    }
    return *this;
}

void Buffer::release() noexcept
{
    if (!data_)
        return;
    if (source_) {
        source_->release(data_, size_);
        g_source_bytes.fetch_sub(size_, std::memory_order_relaxed);
    } else {
        if (mapped_)
            ::munmap(data_, size_);
        else
            ::operator delete(data_, kAlign);
        g_default_bytes.fetch_sub(size_, std::memory_order_relaxed);
    }
    data_ = nullptr;
    size_ = 0;
    source_ = nullptr;
    mapped_ = false;
}

} // namespace idpath::table
