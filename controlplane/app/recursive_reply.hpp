#pragma once
/// The recursive role's replies to punted requests (docs/recursion.md): the engine's answer is
/// laid out as a one-record table and the request resolved against it with resolve::resolve(),
/// so index and type filters, PO, RD digests, the UDP size policy and error codes come out
/// exactly as for a cache hit on the hot path.
/// Thread-safety: pure functions (they allocate; resolver threads only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/recursion/outcome.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/resolve/policy.hpp"
#include "dataplane/resolve/resolver.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::app {

/// The table key of a handle as the resolver looks it up: normalised, and a slash-less
/// "88.100.1" as its prefix handle "0.NA/88.100.1".
std::string table_key(std::string_view handle);
/// The prefix whose homing makes the resolver answer 100 for a missing `key` (a table_key()).
std::string homing_prefix(std::string_view key);

/// The handle a RESOLUTION request asks for, as sent; nullopt for anything else.
std::optional<std::string> requested_handle(ByteSpan request);
/// Whether a request (envelope + message) sets AT: it wants a primary server's answer.
bool asks_authoritative(ByteSpan request);

/// Writes the reply (envelope + message) to `request` (envelope + message, one datagram) given
/// the engine's `answer` for the handle it asks, with `policy` as the hot path answers (made
/// non-recursive and non-authoritative here). `out` holds resolve::kReplyBufferSize octets.
/// RC_SUCCESS answers through a one-record table; 100 through a table homing the prefix; a
/// failed resolution is RC_ERROR "recursion failed: ..."; any other upstream code is passed on
/// with an empty message, as HANDLE.NET sends 200.
resolve::Outcome recursive_reply(ByteSpan request, const recursion::Outcome& answer, resolve::Policy policy,
                                 std::uint32_t now_unix, MutableByteSpan out);

} // namespace idpath::app
