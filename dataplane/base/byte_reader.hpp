#pragma once
/// Bounds-checked cursor over a byte span, with a sticky failure.
///
/// Reads past the end never touch memory outside the span: they return zero or an empty span and
/// mark the reader failed. Callers read a whole structure and check ok() once, which keeps
/// decoders short without ever trusting a length from the wire.
/// Thread-safety: one reader per thread. Hot path: yes; never allocates.

#include <cstddef>
#include <cstdint>

#include "dataplane/base/bytes.hpp"

namespace idpath {

class ByteReader {
public:
    /// Why a reader failed; the first failure sticks.
    enum class Fault : std::uint8_t { None, Truncated, LengthTooLarge };

    explicit ByteReader(ByteSpan data) noexcept : data_(data) {}

    bool ok() const noexcept { return fault_ == Fault::None; }
    Fault fault() const noexcept { return fault_; }
    std::size_t position() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return ok() ? data_.size() - pos_ : 0; }
    bool at_end() const noexcept { return ok() && pos_ == data_.size(); }
    /// The unread bytes.
    ByteSpan rest() const noexcept { return ok() ? data_.subspan(pos_) : ByteSpan{}; }

    std::uint8_t u8() noexcept
    {
        const std::uint8_t* p = need(1);
        return p ? *p : 0;
    }
    std::uint16_t u16() noexcept
    {
        const std::uint8_t* p = need(2);
        return p ? load_be16(p) : 0;
    }
    std::uint32_t u32() noexcept
    {
        const std::uint8_t* p = need(4);
        return p ? load_be32(p) : 0;
    }
    std::uint64_t u64() noexcept
    {
        const std::uint8_t* p = need(8);
        return p ? load_be64(p) : 0;
    }

    /// The next n bytes.
    ByteSpan bytes(std::size_t n) noexcept
    {
        const std::uint8_t* p = need(n);
        return p ? ByteSpan{p, n} : ByteSpan{};
    }

    /// A Handle "String": int4 length then that many bytes. A length above max_len (or above what
    /// remains) fails the reader; lengths are unsigned on purpose, so 0xFFFFFFFF is simply large.
    ByteSpan string(std::size_t max_len) noexcept
    {
        const std::uint32_t len = u32();
        if (!ok())
            return {};
        if (len > max_len) {
            fail(Fault::LengthTooLarge);
            return {};
        }
        return bytes(len);
    }

    void skip(std::size_t n) noexcept { (void)need(n); }
    void fail(Fault f) noexcept
    {
        if (fault_ == Fault::None)
            fault_ = f;
    }

private:
    const std::uint8_t* need(std::size_t n) noexcept
    {
        if (!ok())
            return nullptr;
        if (n > data_.size() - pos_) {
            fail(Fault::Truncated);
            return nullptr;
        }
        const std::uint8_t* p = data_.data() + pos_;
        pos_ += n;
        return p;
    }

    ByteSpan data_;
    std::size_t pos_ = 0;
    Fault fault_ = Fault::None;
};

} // namespace idpath
