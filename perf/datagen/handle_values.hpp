#pragma once
/// A generated identifier as the table takes it (wire::HandleValue), for building tables in
/// process without writing and parsing JSON: the same values the loader makes of its JSON line
/// (tests/unit/datagen checks the two agree value for value).
/// Thread-safety: pure; any thread. Control plane and benchmarks only (allocates).

#include <vector>

#include "dataplane/wire/value.hpp"
#include "perf/datagen/identifier.hpp"

namespace idpath::datagen {

std::vector<wire::HandleValue> to_handle_values(const Identifier& id);

} // namespace idpath::datagen
