#include "drivers/mem/mem_port.hpp"

#include <cassert>
#include <cstring>
#include <utility>

namespace idpath::drivers::mem {

MemPort::Pool::Pool(std::size_t buffers, std::size_t size)
    : buffer_count(buffers),
      buffer_size(size),
      memory(new std::uint8_t[buffers * size]()),
      in_use(buffers, false)
{
    assert(size > 0 && size <= std::numeric_limits<std::uint16_t>::max());
    free_list.reserve(buffers);
    for (std::size_t i = buffers; i-- > 0;)
        free_list.push_back(static_cast<std::uint32_t>(i));
}

MemPort::MemPort(std::size_t buffers, std::size_t buffer_size)
    : MemPort(std::make_shared<Pool>(buffers, buffer_size))
{
}

MemPort::MemPort(std::shared_ptr<Pool> pool) : pool_(std::move(pool))
{
    // Neither queue can hold more than the pool's buffers, so neither reallocates later.
    rx_.reserve(pool_->buffer_count);
    tx_.reserve(pool_->buffer_count);
}

MemPort MemPort::sharing_pool_of(MemPort& other)
{
    return MemPort(other.pool_);
}

// The cookie is the buffer's address: unlike an index, it names one buffer of one pool, so a
// buffer handed to a port with another pool is caught as a bad free.
worker::PacketRef MemPort::take_buffer() noexcept
{
    Pool& p = *pool_;
    const std::uint32_t index = p.free_list.back();
    p.free_list.pop_back();
    p.in_use[index] = true;
    std::uint8_t* data = p.memory.get() + index * p.buffer_size;
    return {data, 0, static_cast<std::uint16_t>(p.buffer_size), data};
}

bool MemPort::release(void* cookie) noexcept
{
    Pool& p = *pool_;
    // Integer arithmetic: comparing pointers into different arrays is unspecified.
    const auto base = reinterpret_cast<std::uintptr_t>(p.memory.get());
    const auto at = reinterpret_cast<std::uintptr_t>(cookie);
    const std::size_t offset = at - base; // wraps to a huge value below the pool
    const std::size_t index = offset / p.buffer_size;
    if (at < base || offset % p.buffer_size != 0 || index >= p.buffer_count || !p.in_use[index]) {
        ++p.bad_frees;
        return false;
    }
    p.in_use[index] = false;
    p.free_list.push_back(static_cast<std::uint32_t>(index));
    return true;
}

bool MemPort::inject(ByteSpan frame) noexcept
{
    if (pool_->free_list.empty() || frame.size() > pool_->buffer_size)
        return false;
    if (rx_head_ == rx_.size()) {
        rx_.clear();
        rx_head_ = 0;
    } else if (rx_.size() == rx_.capacity()) {
        // Drop the frames already received to make room: at most buffer_count frames are
        // queued at once, so this never reallocates.
        rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(rx_head_));
        rx_head_ = 0;
    }
    worker::PacketRef ref = take_buffer();
    std::memcpy(ref.data, frame.data(), frame.size());
    ref.length = static_cast<std::uint16_t>(frame.size());
    rx_.push_back(ref);
    return true;
}

std::size_t MemPort::rx_burst(std::span<worker::PacketRef> burst) noexcept
{
    std::size_t n = 0;
    for (; n < burst.size() && rx_head_ < rx_.size(); ++n)
        burst[n] = rx_[rx_head_++];
    return n;
}

std::size_t MemPort::tx_burst(std::span<worker::PacketRef> burst) noexcept
{
    ++tx_calls_;
    std::size_t n = 0;
    for (; n < burst.size() && tx_.size() < tx_capacity_; ++n)
        tx_.push_back(burst[n]);
    return n;
}

std::size_t MemPort::alloc(std::span<worker::PacketRef> burst) noexcept
{
    std::size_t n = 0;
    for (; n < burst.size() && !pool_->free_list.empty(); ++n)
        burst[n] = take_buffer();
    return n;
}

void MemPort::free(std::span<worker::PacketRef> burst) noexcept
{
    for (const worker::PacketRef& ref : burst)
        release(ref.cookie);
}

std::vector<std::vector<std::uint8_t>> MemPort::take_tx()
{
    std::vector<std::vector<std::uint8_t>> out;
    out.reserve(tx_.size());
    for (const worker::PacketRef& ref : tx_) {
        out.emplace_back(ref.data, ref.data + ref.length);
        release(ref.cookie);
    }
    tx_.clear();
    return out;
}

std::size_t MemPort::drain_tx() noexcept
{
    const std::size_t n = tx_.size();
    for (const worker::PacketRef& ref : tx_)
        release(ref.cookie);
    tx_.clear();
    return n;
}

} // namespace idpath::drivers::mem
