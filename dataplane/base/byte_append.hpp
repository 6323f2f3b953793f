#pragma once
/// Appending big-endian integers and Handle Strings (int4 length + octets) to a growable buffer:
/// how the control plane's encoders (journal, replication messages and streams, key records)
/// build their bytes. The hot path writes into fixed spans instead (byte_writer.hpp).
/// Thread-safety: pure functions.

#include <cstdint>
#include <string_view>
#include <vector>

#include "dataplane/base/bytes.hpp"

namespace idpath {

inline void append_u8(std::vector<std::uint8_t>& out, std::uint8_t v) { out.push_back(v); }

inline void append_be16(std::vector<std::uint8_t>& out, std::uint16_t v)
{
    std::uint8_t b[2];
    store_be16(b, v);
    out.insert(out.end(), b, b + 2);
}

inline void append_be32(std::vector<std::uint8_t>& out, std::uint32_t v)
{
    std::uint8_t b[4];
    store_be32(b, v);
    out.insert(out.end(), b, b + 4);
}

inline void append_be64(std::vector<std::uint8_t>& out, std::uint64_t v)
{
    std::uint8_t b[8];
    store_be64(b, v);
    out.insert(out.end(), b, b + 8);
}

inline void append_bytes(std::vector<std::uint8_t>& out, ByteSpan b) { out.insert(out.end(), b.begin(), b.end()); }

/// A Handle protocol String: int4 length, then the octets.
inline void append_string(std::vector<std::uint8_t>& out, ByteSpan b)
{
    append_be32(out, static_cast<std::uint32_t>(b.size()));
    append_bytes(out, b);
}

inline void append_string(std::vector<std::uint8_t>& out, std::string_view s) { append_string(out, as_bytes(s)); }

} // namespace idpath
