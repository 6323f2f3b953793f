#pragma once
/// One question to one server of a site (handle-protocol.md section 1.11 step 7): a
/// query-capable UDP interface first, then TCP when UDP times out, fails or gives no usable
/// reply. Every exchange is counted and, when asked, traced.
/// Thread-safety: free function; the counters are atomics, the trace belongs to the caller.

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/recursion/counters.hpp"
#include "controlplane/recursion/outcome.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/response.hpp"
#include "dataplane/wire/site_info.hpp"

namespace idpath::recursion {

struct UpstreamOptions {
    int udp_timeout_ms = 1000; // per UDP try
    int udp_tries = 2;
    int tcp_timeout_ms = 5000; // connect, send and receive together
    /// OpFlags of the questions: CA PO. REC is left clear: the engine walks the tree itself and
    /// wants the referrals, not another resolver's recursion.
    std::uint32_t op_flags = 0;
    /// Set: every exchange gives up at once (socket::QueryOptions::cancel). Null: never.
    const std::atomic<bool>* cancel = nullptr;
};

struct UpstreamReply {
    wire::Header header;
    wire::DecodedResponse body;
    std::string server;
    bool tcp = false;
};

/// Asks `server` for `question` (type filter `types`, empty: all). Fails, with the last
/// transport's reason, when no interface gave a reply that decodes.
Result<UpstreamReply, std::string>
ask_server(const wire::SiteServer& server, std::string_view question,
           std::span<const std::string> types, std::uint8_t recursion_count,
           const UpstreamOptions& options, Counters& counters, std::vector<Hop>* trace);

} // namespace idpath::recursion
