#include "drivers/mem/mem_port.hpp"

#include <cassert>
#include <cstring>

namespace idpath::drivers::mem {

namespace {

// The cookie is the buffer's index plus one, so a null cookie is never a valid buffer.
void* to_cookie(std::size_t index) noexcept
{
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(index + 1));
}

std::size_t from_cookie(void* cookie) noexcept
{
    return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(cookie)) - 1;
}

} // namespace

MemPort::MemPort(std::size_t buffers, std::size_t buffer_size)
    : buffer_count_(buffers),
      buffer_size_(buffer_size),
      memory_(new std::uint8_t[buffers * buffer_size]()),
      in_use_(buffers, false)
{
    assert(buffer_size <= std::numeric_limits<std::uint16_t>::max());
    free_list_.reserve(buffers);
    for (std::size_t i = buffers; i-- > 0;)
        free_list_.push_back(static_cast<std::uint32_t>(i));
    rx_.reserve(buffers);
    tx_.reserve(buffers);
}

std::uint8_t* MemPort::buffer_data(std::size_t index) const noexcept
{
    return memory_.get() + index * buffer_size_;
}

worker::PacketRef MemPort::take_buffer() noexcept
{
    const std::uint32_t index = free_list_.back();
    free_list_.pop_back();
    in_use_[index] = true;
    return {buffer_data(index), 0, static_cast<std::uint16_t>(buffer_size_), to_cookie(index)};
}

bool MemPort::release(void* cookie) noexcept
{
    const std::size_t index = from_cookie(cookie);
    if (index >= buffer_count_ || !in_use_[index]) {
        ++bad_frees_;
        return false;
    }
    in_use_[index] = false;
    free_list_.push_back(static_cast<std::uint32_t>(index));
    return true;
}

bool MemPort::inject(ByteSpan frame) noexcept
{
    if (free_list_.empty() || frame.size() > buffer_size_)
        return false;
    if (rx_head_ == rx_.size()) {
        rx_.clear();
        rx_head_ = 0;
    }
    worker::PacketRef ref = take_buffer();
    std::memcpy(ref.data, frame.data(), frame.size());
    ref.length = static_cast<std::uint16_t>(frame.size());
    rx_.push_back(ref); // never reallocates: at most buffer_count_ frames are queued
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
    for (; n < burst.size() && !free_list_.empty(); ++n)
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
