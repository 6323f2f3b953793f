#pragma once
// The error text of a Result for test messages, or "(ok)" when there is none.

#include <string>

#include "dataplane/base/result.hpp"

namespace idpath::gun {

template <class T>
std::string error_text(const Result<T, std::string>& r)
{
    return r.ok() ? std::string("(ok)") : r.error();
}

} // namespace idpath::gun
