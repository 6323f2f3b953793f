#include "dataplane/wire/errors.hpp"

namespace idpath::wire {

const char* to_string(WireError e) noexcept
{
    switch (e) {
    case WireError::Truncated:
        return "truncated";
    case WireError::LengthTooLarge:
        return "length_too_large";
    case WireError::TrailingBytes:
        return "trailing_bytes";
    case WireError::MessageTooShort:
        return "message_too_short";
    case WireError::MessageTooLong:
        return "message_too_long";
    case WireError::BodyLengthMismatch:
        return "body_length_mismatch";
    case WireError::HandleTooLong:
        return "handle_too_long";
    case WireError::TooManyValues:
        return "too_many_values";
    case WireError::EmptyHandle:
        return "empty_handle";
    case WireError::BadVersion:
        return "bad_version";
    case WireError::NotARequest:
        return "not_a_request";
    case WireError::NotAResponse:
        return "not_a_response";
    case WireError::BadField:
        return "bad_field";
    case WireError::Count_:
        break;
    }
    return "unknown";
}

} // namespace idpath::wire
