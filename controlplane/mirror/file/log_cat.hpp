#pragma once
/// `idpathctl logs cat FILE...`: any of the file sink's files, binary or JSON, compressed or
/// not, as the schema's JSON lines (chain lines and seals left out).

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "dataplane/base/result.hpp"

namespace idpath::mirror {

/// Hands `write` the file's records and events as JSON lines, batch by batch. The format comes
/// from the file name (ours, or at least ending in .ipl/.jsonl with an optional .zst). Err on
/// an unreadable file or a damaged frame, after writing every whole batch before it.
Result<void, std::string> cat_log_file(const std::filesystem::path& path,
                                       const std::function<void(std::string_view)>& write);

} // namespace idpath::mirror
