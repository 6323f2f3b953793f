#pragma once
/// parse_identifier_line() without the Result wrapper, for the loader's hot loop: the record or
/// the reason are written in place, so a batch reuses its strings and vectors.
/// Internal to controlplane/load. Thread-safety: pure; any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "controlplane/load/jsonl_loader.hpp"

namespace idpath::load {

/// As parse_identifier_line(): true and `record` filled, or false and `error` filled.
bool parse_identifier_line_into(std::string_view line, std::uint32_t default_timestamp,
                                IdentifierRecord& record, std::string& error);

} // namespace idpath::load
