#pragma once
/// Buffer: a zero-filled, 64-octet-aligned block of memory for the table's bucket arrays and
/// record arenas. By default blocks of 2 MiB or more are mapped anonymously and advised for
/// transparent huge pages (MADV_HUGEPAGE; this machine's THP mode is "madvise"), so random
/// lookups over a large table miss the TLB far less; smaller blocks come from operator new.
///
/// A process-wide BlockSource (set_block_source) may supply the blocks instead: idpathd in DPDK
/// mode installs one backed by DPDK's hugepage heap (drivers/dpdk/hugepage_source.hpp), which
/// this layer cannot include. When the source has no memory the default path is used and the
/// fallback counted, so a short hugepage reservation costs speed, never the table.
///
/// Move-only; the memory is released with the Buffer, to whoever allocated it (the source as it
/// was at construction, whatever is installed by then). Control thread allocates; any thread
/// reads; any thread may free.

#include <cstddef>
#include <cstdint>

namespace idpath::table {

/// Where Buffers get their memory when it is not the default. Implementations must be
/// thread-safe and outlive every block they handed out (a process-lifetime object).
class BlockSource {
public:
    virtual ~BlockSource() = default;
    /// `size` (> 0) zeroed octets aligned to 64, or nullptr when there are none.
    virtual void* allocate(std::size_t size) noexcept = 0;
    /// Returns a block allocate() gave, with the size it was asked for.
    virtual void release(void* block, std::size_t size) noexcept = 0;
    /// What the memory is, for status reports ("dpdk-hugepages").
    virtual const char* name() const noexcept = 0;
};

/// Installs `source` for Buffers built from now on; nullptr restores the default. Blocks
/// already allocated keep their source. Call before building tables, from the control thread.
void set_block_source(BlockSource* source) noexcept;
BlockSource* block_source() noexcept;

/// Live Buffer memory by origin, process-wide (in idpathd, the serving table's blocks; during a
/// reload, both generations' and the builder's).
struct BlockUsage {
    std::size_t source_bytes = 0;    // from a BlockSource
    std::size_t default_bytes = 0;   // anonymous mappings and the heap
    std::uint64_t fallbacks = 0;     // blocks a source could not supply, since start
    const char* source_name = nullptr; // of the last source installed, if any
};
BlockUsage block_usage() noexcept;

class Buffer {
public:
    /// Blocks this large or larger are mmap()ed and advised for huge pages (default path).
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
    /// The source that allocated this block; nullptr for the default path.
    BlockSource* source() const noexcept { return source_; }

private:
    void release() noexcept;

    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    BlockSource* source_ = nullptr;
    bool mapped_ = false;
};

} // namespace idpath::table
