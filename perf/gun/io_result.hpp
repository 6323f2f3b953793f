#pragma once
/// What a port's send or receive did: how many datagrams or frames moved, and the errno of a
/// failure other than "try again later" (0 when none).

#include <cstddef>
#include <string>
#include <system_error>

namespace idpath::gun {

struct IoResult {
    std::size_t count = 0;
    int error = 0;
};

/// "Connection refused (errno 111)". Any thread.
inline std::string errno_text(int err)
{
    return std::error_code(err, std::generic_category()).message() + " (errno " + std::to_string(err) + ")";
}

} // namespace idpath::gun
