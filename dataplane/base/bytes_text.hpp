#pragma once
/// Rendering opaque bytes for people and JSON: lowercase hex, and the test for "this is text".
/// Control plane and tools only (allocates).

#include <string>

#include "dataplane/base/bytes.hpp"

namespace idpath {

/// Lowercase hex, no separators.
std::string hex(ByteSpan data);

/// Valid UTF-8 with no control characters other than tab (overlong forms, surrogates, code
/// points past U+10FFFF and C1 controls are not text).
bool is_printable_utf8(ByteSpan data);

} // namespace idpath
