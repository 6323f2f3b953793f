#pragma once
// Helpers for the wire codec tests: hex, a hand-rolled big-endian builder (independent of
// ByteWriter, so expected encodings are not produced by the code under test), vector files.

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/bytes.hpp"

namespace idpath::wire::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes from_hex(std::string_view hex)
{
    Bytes out;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    int hi = -1;
    for (const char c : hex) {
        const int n = nibble(c);
        if (n < 0)
            continue; // whitespace and separators
        if (hi < 0) {
            hi = n;
        } else {
            out.push_back(static_cast<std::uint8_t>(hi << 4 | n));
            hi = -1;
        }
    }
    return out;
}

inline std::string to_hex(ByteSpan b)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    for (const std::uint8_t x : b) {
        s.push_back(kDigits[x >> 4]);
        s.push_back(kDigits[x & 15]);
    }
    return s;
}

/// Builds expected encodings field by field.
class Builder {
public:
    Builder& u8(std::uint32_t v)
    {
        b_.push_back(static_cast<std::uint8_t>(v));
        return *this;
    }
    Builder& u16(std::uint32_t v) { return u8(v >> 8).u8(v); }
    Builder& u32(std::uint32_t v) { return u16(v >> 16).u16(v); }
    Builder& raw(std::string_view s)
    {
        b_.insert(b_.end(), s.begin(), s.end());
        return *this;
    }
    Builder& raw(const Bytes& b)
    {
        b_.insert(b_.end(), b.begin(), b.end());
        return *this;
    }
    Builder& str(std::string_view s) { return u32(static_cast<std::uint32_t>(s.size())).raw(s); }
    Builder& str(const Bytes& b) { return u32(static_cast<std::uint32_t>(b.size())).raw(b); }
    Builder& zeros(std::size_t n)
    {
        b_.insert(b_.end(), n, 0);
        return *this;
    }
    const Bytes& bytes() const { return b_; }
    std::size_t size() const { return b_.size(); }

private:
    Bytes b_;
};

inline Bytes read_vector(const std::string& name)
{
    std::ifstream in(std::string(IDPATH_WIRE_VECTOR_DIR) + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return from_hex(ss.str());
}

inline ByteSpan span(const Bytes& b)
{
    return ByteSpan(b.data(), b.size());
}

template <class R>
auto error_of(const R& r)
{
    return r.error();
}

} // namespace idpath::wire::test
