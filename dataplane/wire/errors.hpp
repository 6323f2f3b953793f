#pragma once
/// Why a decoder rejected its input. One enum for the whole codec so counters can index by it.

#include <cstdint>

#include "dataplane/base/byte_reader.hpp"

namespace idpath::wire {

enum class WireError : std::uint8_t {
    Truncated,          // fewer bytes than a field or a declared length needs
    LengthTooLarge,     // a declared length or count above the protocol's limit
    TrailingBytes,      // bytes left after a structure that must fill its span exactly
    MessageTooShort,    // MessageLength below one header plus credential length
    MessageTooLong,     // MessageLength above 256 KiB
    BodyLengthMismatch, // BodyLength does not fit inside MessageLength
    HandleTooLong,      // handle above 2048 octets
    TooManyValues,      // more than 2048 values
    EmptyHandle,        // a request naming no handle
    BadVersion,         // major version not 2 or 3 (or 5, CNRI's legacy 2.0 marker)
    NotARequest,        // ResponseCode != 0 where a request was expected
    NotAResponse,       // ResponseCode == 0 where a response was expected
    BadField,           // a field with a value the format does not allow
    Count_              // number of enumerators; keep last
};

const char* to_string(WireError e) noexcept;

/// Maps a failed ByteReader to the matching WireError.
inline WireError reader_error(const ByteReader& r) noexcept
{
    return r.fault() == ByteReader::Fault::LengthTooLarge ? WireError::LengthTooLarge
                                                          : WireError::Truncated;
}

} // namespace idpath::wire
