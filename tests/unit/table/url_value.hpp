#pragma once
// A URL value with the given index and data, for the table's writer and update tests.

#include <cstdint>
#include <string>

#include "dataplane/wire/value.hpp"

namespace idpath::table::test {

inline wire::HandleValue url_value(std::uint32_t index, const std::string& data)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1700000000;
    v.type = "URL";
    v.data.assign(data.begin(), data.end());
    return v;
}

} // namespace idpath::table::test
