#pragma once
/// Buffer: a zero-filled, 64-octet-aligned block of memory for the table's bucket arrays and
/// record arenas. Blocks of 2 MiB or more are mapped anonymously and advised for transparent huge
/// pages (MADV_HUGEPAGE; this machine's THP mode is "madvise"), so random lookups over a large
/// table miss the TLB far less. Smaller blocks come from operator new.
///
/// Move-only; the memory is released with the Buffer. Control thread allocates; any thread reads.

#include <cstddef>
#include <cstdint>

namespace idpath::table {

class Buffer {
public:
    /// Blocks this large or larger are mmap()ed and advised for huge pages.
    static constexpr std::size_t kHugeThreshold = std::size_t{2} << 20;

    Buffer() = default;
    /// `size` zeroed octets; throws std::bad_alloc when the memory is not there.
    explicit Buffer(std::size_t size);
    ~Buffer();
    Buffer(Buffer&& o) noexcept;
    Buffer& operator=(Buffer&& o) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    std::uint8_t* data() noexcept { return data_; }
    const std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    void release() noexcept;

    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    bool mapped_ = false;
};

} // namespace idpath::table
