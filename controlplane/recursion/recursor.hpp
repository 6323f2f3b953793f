#pragma once
/// The recursive role's engine: resolves any handle the way HANDLE.NET's resolver does
/// (handle-protocol.md sections 1.11, 2.5). The prefix handle 0.NA/<PREFIX> is asked of the
/// root sites, 303 prefix referrals and HS_SERV indirections are followed, and the handle is
/// then asked of the server its site's hash picks. Answers, negative answers and prefix sites
/// are cached; identical questions in flight share one resolution.
/// Synchronous: resolve() blocks the calling thread for the upstream exchanges.
/// Thread-safety: resolve(), counters() and the cache accessors may be called from any thread.

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/recursion/answer_cache.hpp"
#include "controlplane/recursion/coalescer.hpp"
#include "controlplane/recursion/counters.hpp"
#include "controlplane/recursion/outcome.hpp"
#include "controlplane/recursion/service_cache.hpp"
#include "controlplane/recursion/ttl.hpp"
#include "controlplane/recursion/upstream.hpp"
#include "dataplane/wire/site_info.hpp"
#include "drivers/socket/address.hpp"

namespace idpath::recursion {

struct RecursionOptions {
    /// The global (root / top-level) service: each endpoint is a one-server site answering on
    /// UDP and TCP at that port. Asked for every prefix handle, and for handles without '/' or
    /// starting with "0.".
    std::vector<socket::Endpoint> roots;
    int udp_timeout_ms = 1000; // per UDP try
    int udp_tries = 2;         // before falling back to TCP
    int tcp_timeout_ms = 5000;
    /// Referral levels one resolution may walk (a prefix referral, a service indirection, the
    /// final question each count one); HANDLE.NET servers stop recursing at 10.
    std::uint32_t max_hops = 10;
    /// HS_SERV indirections followed within one resolution (HANDLE.NET: 20).
    std::uint32_t max_service_depth = 20;
    /// Caps every TTL (HANDLE.NET's MAX_RECOGNIZED_TTL).
    std::uint32_t max_ttl = kMaxRecognizedTtl;
    /// Seconds RC_HANDLE_NOT_FOUND and RC_VALUES_NOT_FOUND are kept; 0: not at all.
    std::uint32_t negative_ttl = 60;
    std::size_t answer_cache_entries = 100000; // LRU beyond this
    std::size_t service_cache_entries = 10000;
};

class Recursor {
public:
    explicit Recursor(RecursionOptions options);

    /// The public values of `handle`: from the cache, from an identical resolution in flight,
    /// or from upstream. `authoritative` (a client's AT): never from the cache, and the handle
    /// itself is asked of primary sites only, with AT set, as HANDLE.NET's resolver does; the
    /// fresh answer then replaces what the cache held.
    Outcome resolve(std::string_view handle, bool authoritative = false);
    /// The same, bypassing the answer cache and the coalescer (the service cache is still used)
    /// and recording every upstream exchange in `trace`; for idpath-dig --recurse.
    Outcome resolve_traced(std::string_view handle, std::vector<Hop>& trace);

    /// Makes every resolution in flight, and every later one, fail at once ("cancelled"): what
    /// a stopping service calls so its threads do not sit out upstream timeouts. One way.
    void cancel() noexcept { cancel_.store(true, std::memory_order_relaxed); }

    const Counters& counters() const noexcept { return counters_; }
    std::string counters_json() const { return counters_.to_json(); }
    const RecursionOptions& options() const noexcept { return options_; }
    AnswerCache& answers() noexcept { return answers_; }
    ServiceCache& services() noexcept { return services_; }

    /// The answer cache's key: the prefix ASCII-uppercased, the suffix as written (HANDLE.NET's
    /// cache key; servers compare suffixes as they are configured to).
    static std::string cache_key(std::string_view handle);
    /// "0.NA/<PREFIX>" for a handle with a prefix; empty for one the root sites serve directly.
    static std::string prefix_handle(std::string_view handle);

private:
    struct Walk;
    struct Sites;

    Outcome resolve_upstream(std::string_view handle, std::vector<Hop>* trace, bool authoritative = false);
    Sites sites_for(std::string_view handle, Walk& w);
    Sites find_service(const std::string& prefix_handle, Walk& w);
    Result<UpstreamReply, std::string> walk(std::string_view question,
                                            std::span<const std::string> types,
                                            std::vector<wire::SiteInfo> sites, Walk& w);
    Result<UpstreamReply, std::string> ask_sites(const std::vector<wire::SiteInfo>& sites,
                                                 std::string_view question,
                                                 std::span<const std::string> types, Walk& w);
    std::vector<wire::SiteInfo> sites_from_values(const std::vector<wire::HandleValue>& values,
                                                  bool prefix_referral, Walk& w,
                                                  std::uint32_t depth);
    std::vector<wire::SiteInfo> service_sites(const std::string& service_handle, Walk& w,
                                              std::uint32_t depth);

    RecursionOptions options_;
    std::atomic<bool> cancel_{false};
    UpstreamOptions upstream_;
    std::vector<wire::SiteInfo> root_sites_;
    Counters counters_;
    AnswerCache answers_;
    ServiceCache services_;
    Coalescer coalescer_;
};

} // namespace idpath::recursion
