#pragma once
/// OpenSSL's error queue as text, for the errors crypto/ returns.

#include <string>

namespace idpath::crypto {

/// Every error OpenSSL queued on this thread, oldest first, joined by "; ", and the queue left
/// empty; "unknown OpenSSL error" when none was queued.
std::string openssl_errors();

} // namespace idpath::crypto
