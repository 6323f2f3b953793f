#pragma once
/// Bounds-checked writer into a caller-owned buffer, with a sticky overflow flag.
///
/// Encoders write a whole message and check ok() once; an overflowing write writes nothing and
/// marks the writer failed, so a too-small buffer can never be overrun.
/// Thread-safety: one writer per thread. Hot path: yes; never allocates.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "dataplane/base/bytes.hpp"

namespace idpath {

class ByteWriter {
public:
    explicit ByteWriter(MutableByteSpan out) noexcept : out_(out) {}

    bool ok() const noexcept { return ok_; }
    std::size_t size() const noexcept { return pos_; }
    std::size_t capacity() const noexcept { return out_.size(); }
    std::size_t room() const noexcept { return out_.size() - pos_; }
    /// What has been written so far.
    ByteSpan written() const noexcept { return {out_.data(), pos_}; }
    MutableByteSpan buffer() const noexcept { return out_; }

    void u8(std::uint8_t v) noexcept
    {
        if (std::uint8_t* p = claim(1))
            *p = v;
    }
    void u16(std::uint16_t v) noexcept
    {
        if (std::uint8_t* p = claim(2))
            store_be16(p, v);
    }
    void u32(std::uint32_t v) noexcept
    {
        if (std::uint8_t* p = claim(4))
            store_be32(p, v);
    }
    void u64(std::uint64_t v) noexcept
    {
        if (std::uint8_t* p = claim(8))
            store_be64(p, v);
    }
    void bytes(ByteSpan b) noexcept
    {
        if (std::uint8_t* p = claim(b.size()); p && !b.empty())
            std::memcpy(p, b.data(), b.size());
    }
    /// A Handle "String": int4 length then the bytes.
    void string(ByteSpan b) noexcept
    {
        u32(static_cast<std::uint32_t>(b.size()));
        bytes(b);
    }
    void string(std::string_view s) noexcept { string(as_bytes(s)); }

    /// Reserves four bytes for a length known only later; returns their offset.
    std::size_t reserve_u32() noexcept
    {
        const std::size_t at = pos_;
        u32(0);
        return at;
    }
    void patch_u32(std::size_t at, std::uint32_t v) noexcept
    {
        if (ok_ && at + 4 <= pos_)
            store_be32(out_.data() + at, v);
    }
    /// Skips n bytes (filled later by the caller); returns a pointer to them or nullptr.
    std::uint8_t* claim(std::size_t n) noexcept
    {
        if (!ok_ || n > out_.size() - pos_) {
            ok_ = false;
            return nullptr;
        }
        std::uint8_t* p = out_.data() + pos_;
        pos_ += n;
        return p;
    }

private:
    MutableByteSpan out_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

} // namespace idpath
