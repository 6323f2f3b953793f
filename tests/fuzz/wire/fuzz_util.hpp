#pragma once
// Shared by the wire fuzz targets: invariant checks that crash loudly, and a cursor that turns
// fuzzer input into small decisions.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "dataplane/base/bytes.hpp"

namespace idpath::wire::fuzz {

/// A violated invariant is a finding: abort so libFuzzer keeps the input.
inline void check(bool ok)
{
    if (!ok)
        std::abort();
}

/// Takes decision octets from the front of the input; runs out into zeros.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) << 16 | u16(); }
    bool empty() const { return pos_ >= size_; }
    /// Up to n octets of the input, as a span into it.
    ByteSpan take(std::size_t n)
    {
        const std::size_t k = n < size_ - pos_ ? n : size_ - pos_;
        const ByteSpan out(data_ + pos_, k);
        pos_ += k;
        return out;
    }
    ByteSpan rest() { return take(size_ - pos_); }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

} // namespace idpath::wire::fuzz
