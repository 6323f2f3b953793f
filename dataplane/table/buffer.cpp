#include "dataplane/table/buffer.hpp"

#include <sys/mman.h>

#include <cstring>
#include <new>
#include <utility>

namespace idpath::table {
namespace {

constexpr std::align_val_t kAlign{64};

} // namespace

Buffer::Buffer(std::size_t size) : size_(size)
{
    if (size == 0)
        return;
    if (size >= kHugeThreshold) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            throw std::bad_alloc();
        // Advice only: without THP the table works the same, with more TLB misses.
        (void)::madvise(p, size, MADV_HUGEPAGE);
        data_ = static_cast<std::uint8_t*>(p); // anonymous mappings are zero-filled
        mapped_ = true;
        return;
    }
    data_ = static_cast<std::uint8_t*>(::operator new(size, kAlign));
    std::memset(data_, 0, size);
}

Buffer::~Buffer()
{
    release();
}

Buffer::Buffer(Buffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), mapped_(std::exchange(o.mapped_, false))
{
}

Buffer& Buffer::operator=(Buffer&& o) noexcept
{
    if (this != &o) {
        release();
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
        mapped_ = std::exchange(o.mapped_, false);
    }
    return *this;
}

void Buffer::release() noexcept
{
    if (!data_)
        return;
    if (mapped_)
        ::munmap(data_, size_);
    else
        ::operator delete(data_, kAlign);
    data_ = nullptr;
    size_ = 0;
}

} // namespace idpath::table
