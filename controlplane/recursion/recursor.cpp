#include "controlplane/recursion/recursor.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <utility>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/server_hash.hpp"

namespace idpath::recursion {

namespace {

// What HANDLE.NET's resolver asks a prefix handle for (handle-protocol.md 1.11 step 2).
const std::string kServiceTypes[] = {"HS_SITE", "HS_SITE.6", "HS_SERV", "HS_NAMESPACE"};
constexpr std::uint32_t kRcSuccess = static_cast<std::uint32_t>(wire::ResponseCode::Success);
constexpr std::uint32_t kRcError = static_cast<std::uint32_t>(wire::ResponseCode::Error);
constexpr std::uint32_t kRcNotFound =
    static_cast<std::uint32_t>(wire::ResponseCode::HandleNotFound);
constexpr std::uint32_t kRcValuesNotFound =
    static_cast<std::uint32_t>(wire::ResponseCode::ValuesNotFound);
constexpr std::uint32_t kRcNotResponsible =
    static_cast<std::uint32_t>(wire::ResponseCode::ServerNotResponsible);
constexpr std::uint32_t kRcServiceReferral =
    static_cast<std::uint32_t>(wire::ResponseCode::ServiceReferral);
constexpr std::uint32_t kRcPrefixReferral =
    static_cast<std::uint32_t>(wire::ResponseCode::PrefixReferral);

std::uint64_t unix_now() noexcept
{
    return static_cast<std::uint64_t>(std::time(nullptr));
}

std::string upper_ascii(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - ('a' - 'A'));
    return out;
}

/// Type names compare ASCII case-insensitively, as HANDLE.NET's do; `want` is uppercase.
bool type_is(std::string_view type, std::string_view want) noexcept
{
    return std::equal(type.begin(), type.end(), want.begin(), want.end(), [](char a, char b) {
        return (a >= 'a' && a <= 'z' ? static_cast<char>(a - ('a' - 'A')) : a) == b;
    });
}

/// Handles the root sites serve themselves: prefix handles and slash-less prefixes.
bool served_by_roots(std::string_view handle) noexcept
{
    return handle.find('/') == std::string_view::npos || handle.starts_with("0.") ||
           handle.starts_with("0/");
}

/// A root endpoint as a one-server site answering queries on UDP and TCP at its port.
wire::SiteInfo root_site(const socket::Endpoint& ep)
{
    wire::SiteServer server;
    if (ep.family() == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ep.storage);
        std::memcpy(server.address.data() + 12, &sin->sin_addr, 4);
    } else {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ep.storage);
        std::memcpy(server.address.data(), &sin6->sin6_addr, 16);
    }
    server.interfaces = {{wire::site::kInterfaceQuery, wire::site::kProtocolUdp, ep.port()},
                         {wire::site::kInterfaceQuery, wire::site::kProtocolTcp, ep.port()}};
    wire::SiteInfo site;
    site.servers.push_back(std::move(server));
    return site;
}

/// IPv4 sites first: the family every host has a route for (HANDLE.NET races IPv6 first with
/// IPv4 300 ms behind; a synchronous engine tries one after the other instead).
void ipv4_first(std::vector<wire::SiteInfo>& sites)
{
    std::stable_partition(sites.begin(), sites.end(), [](const wire::SiteInfo& s) {
        return !s.servers.empty() && s.servers.front().is_ipv4();
    });
}

} // namespace

struct Recursor::Walk {
    std::uint32_t hops = 0;
    std::vector<Hop>* trace = nullptr;
    std::vector<std::string> services; // service handles entered (uppercased): loop check
    bool authoritative = false;        // the question now asked is a client's AT one

    void note(std::string text) const
    {
        if (trace && !trace->empty())
            trace->back().note = std::move(text);
    }
};

struct Recursor::Sites {
    enum class State { Found, NotFound, Failed } state = State::Failed;
    std::vector<wire::SiteInfo> sites;
    std::string error;
};

Recursor::Recursor(RecursionOptions options)
    : options_(std::move(options))
    , answers_(options_.answer_cache_entries)
    , services_(options_.service_cache_entries)
{
    upstream_.udp_timeout_ms = options_.udp_timeout_ms;
    upstream_.udp_tries = options_.udp_tries;
    upstream_.tcp_timeout_ms = options_.tcp_timeout_ms;
    upstream_.op_flags = wire::opflag::kCacheCertify | wire::opflag::kPublicOnly;
    upstream_.cancel = &cancel_;
    for (const socket::Endpoint& ep : options_.roots)
        root_sites_.push_back(root_site(ep));
    ipv4_first(root_sites_);
}

std::string Recursor::cache_key(std::string_view handle)
{
    const auto slash = handle.find('/');
    if (slash == std::string_view::npos)
        return upper_ascii(handle);
    return upper_ascii(handle.substr(0, slash)) + std::string(handle.substr(slash));
}

std::string Recursor::prefix_handle(std::string_view handle)
{
    if (served_by_roots(handle))
        return {};
    return "0.NA/" + upper_ascii(handle.substr(0, handle.find('/')));
}

Outcome Recursor::resolve(std::string_view handle, bool authoritative)
{
    Counters::bump(counters_.queries);
    const std::string key = cache_key(handle);
    if (authoritative)
        Counters::bump(counters_.authoritative);
    else if (auto cached = answers_.get(key, unix_now())) {
        Counters::bump(counters_.cache_hits);
        if (cached->negative())
            Counters::bump(counters_.negative_hits);
        Outcome o;
        o.response_code = cached->response_code;
        o.value_count = cached->value_count;
        o.values = std::move(cached->values);
        o.ttl = cached->ttl;
        o.from_cache = true;
        return o;
    }
    bool shared = false;
    // AT questions share a resolution only with each other: a non-AT one may end at a mirror.
    Outcome o = coalescer_.run(
        authoritative ? "AT " + key : key,
        [&] {
            Outcome fresh = resolve_upstream(handle, nullptr, authoritative);
            const std::uint32_t rc = fresh.response_code;
            // Stored before the waiters wake, so callers after them hit the cache.
            if (!fresh.failed() &&
                (rc == kRcSuccess || rc == kRcNotFound || rc == kRcValuesNotFound))
                answers_.put(key, CachedAnswer{rc, fresh.value_count, fresh.values, 0}, fresh.ttl,
                             unix_now());
            return fresh;
        },
        shared);
    if (shared)
        Counters::bump(counters_.coalesced);
    return o;
}

Outcome Recursor::resolve_traced(std::string_view handle, std::vector<Hop>& trace)
{
    Counters::bump(counters_.queries);
    return resolve_upstream(handle, &trace);
}

Outcome Recursor::resolve_upstream(std::string_view handle, std::vector<Hop>* trace, bool authoritative)
{
    Walk w;
    w.trace = trace;
    Outcome o;
    const auto fail = [&](std::string why) {
        o.response_code = kRcError;
        o.error = std::move(why);
        o.hops = w.hops;
        Counters::bump(counters_.errors);
        return o;
    };

    Sites where = sites_for(handle, w);
    if (where.state == Sites::State::NotFound) {
        // No prefix handle, so no handle under it: what a client would conclude too.
        o.response_code = kRcNotFound;
        o.ttl = options_.negative_ttl;
        o.hops = w.hops;
        return o;
    }
    if (where.state == Sites::State::Failed)
        return fail(std::move(where.error));

    // Only the handle itself is asked with AT: the prefix's sites come as for any question.
    w.authoritative = authoritative;
    auto reply = walk(handle, {}, std::move(where.sites), w);
    if (!reply.ok())
        return fail(reply.error());
    o.hops = w.hops;
    o.response_code = reply->header.response_code;
    if (o.response_code == kRcSuccess) {
        // PO was set, so servers drop restricted values; check anyway: only public values are
        // ever handed out or kept.
        std::vector<wire::HandleValue> values;
        for (wire::HandleValue& v : reply->body.resolution.values)
            if (v.permissions & wire::perm::kPublicRead)
                values.push_back(std::move(v));
        if (values.empty()) {
            o.response_code = kRcValuesNotFound;
            o.ttl = options_.negative_ttl;
            return o;
        }
        std::size_t size = 0;
        for (const wire::HandleValue& v : values)
            size += wire::encoded_size(v);
        o.values.resize(size);
        ByteWriter bw(o.values);
        for (const wire::HandleValue& v : values)
            wire::encode_value(bw, v);
        o.value_count = static_cast<std::uint32_t>(values.size());
        o.ttl = answer_ttl(values, unix_now(), options_.max_ttl);
    } else if (o.response_code == kRcNotFound || o.response_code == kRcValuesNotFound) {
        o.ttl = options_.negative_ttl;
    }
    return o;
}

Recursor::Sites Recursor::sites_for(std::string_view handle, Walk& w)
{
    const std::string ph = prefix_handle(handle);
    if (ph.empty()) {
        Sites s;
        s.state = root_sites_.empty() ? Sites::State::Failed : Sites::State::Found;
        s.sites = root_sites_;
        s.error = "no root sites configured";
        return s;
    }
    return find_service(ph, w);
}

Recursor::Sites Recursor::find_service(const std::string& ph, Walk& w)
{
    Sites s;
    if (auto cached = services_.get(ph, unix_now())) {
        Counters::bump(counters_.service_hits);
        s.state = Sites::State::Found;
        s.sites = std::move(*cached);
        return s;
    }
    if (root_sites_.empty()) {
        s.error = "no root sites configured";
        return s;
    }
    auto reply = walk(ph, kServiceTypes, root_sites_, w);
    if (!reply.ok()) {
        s.error = reply.error();
        return s;
    }
    const std::uint32_t rc = reply->header.response_code;
    if (rc == kRcNotFound || rc == kRcValuesNotFound) {
        s.state = Sites::State::NotFound;
        s.error = "prefix handle " + ph + " not found";
        return s;
    }
    if (rc != kRcSuccess) {
        s.error =
            "RC " + std::to_string(rc) + " for prefix handle " + ph + " from " + reply->server;
        return s;
    }
    const std::vector<wire::HandleValue>& values = reply->body.resolution.values;
    s.sites = sites_from_values(values, false, w, 0);
    if (s.sites.empty()) {
        s.error = "prefix handle " + ph + " names no usable site";
        return s;
    }
    s.state = Sites::State::Found;
    services_.put(ph, s.sites, answer_ttl(values, unix_now(), options_.max_ttl), unix_now());
    return s;
}

Result<UpstreamReply, std::string> Recursor::walk(std::string_view question,
                                                  std::span<const std::string> types,
                                                  std::vector<wire::SiteInfo> sites, Walk& w)
{
    for (;;) {
        if (w.hops >= options_.max_hops)
            return Err("recursion limit (" + std::to_string(options_.max_hops) +
                       " hops) reached asking for " + std::string(question));
        ++w.hops;
        auto reply = ask_sites(sites, question, types, w);
        if (!reply.ok())
            return reply;
        const std::uint32_t rc = reply->header.response_code;
        if (rc != kRcServiceReferral && rc != kRcPrefixReferral)
            return reply;
        Counters::bump(counters_.referrals);
        const wire::Referral& ref = reply->body.referral;
        std::vector<wire::SiteInfo> next =
            sites_from_values(ref.values, rc == kRcPrefixReferral, w, 0);
        if (next.empty() && !ref.handle.empty())
            next = service_sites(ref.handle, w, 1);
        if (next.empty())
            return Err("referral (RC " + std::to_string(rc) + ") from " + reply->server +
                       " names no usable site");
        w.note((rc == kRcPrefixReferral ? "prefix referral to " : "service referral to ") +
               std::to_string(next.size()) + (next.size() == 1 ? " site" : " sites"));
        sites = std::move(next);
    }
}

Result<UpstreamReply, std::string> Recursor::ask_sites(const std::vector<wire::SiteInfo>& sites,
                                                       std::string_view question,
                                                       std::span<const std::string> types, Walk& w)
{
    std::string last = "no site to ask for " + std::string(question);
    UpstreamOptions upstream = upstream_;
    if (w.authoritative) {
        upstream.op_flags |= wire::opflag::kAuthoritative;
        last = "no primary site to ask for " + std::string(question);
    }
    for (const wire::SiteInfo& site : sites) {
        if (cancel_.load(std::memory_order_relaxed))
            return Err(std::string("cancelled: the resolver is stopping"));
        if (site.servers.empty() || (w.authoritative && !site.is_primary()))
            continue;
        const std::int32_t n = wire::server_number(question, site.hash_option,
                                                   static_cast<std::uint32_t>(site.servers.size()));
        if (n < 0) {
            // HANDLE.NET throws here (Math.abs(INT32_MIN)); the next site may hash differently.
            Counters::bump(counters_.bad_hash);
            last = "the site hash of " + std::string(question) + " picks no server";
            continue;
        }
        auto reply = ask_server(site.servers[static_cast<std::size_t>(n)], question, types,
                                static_cast<std::uint8_t>(std::min<std::uint32_t>(w.hops, 255)),
                                upstream, counters_, w.trace);
        if (!reply.ok()) {
            last = reply.error();
            continue;
        }
        if (reply->header.response_code == kRcNotResponsible) {
            w.note("not responsible: next site");
            last = reply->server + " is not responsible for " + std::string(question);
            continue;
        }
        return reply;
    }
    return Err(std::move(last));
}

std::vector<wire::SiteInfo>
Recursor::sites_from_values(const std::vector<wire::HandleValue>& values, bool prefix_referral,
                            Walk& w, std::uint32_t depth)
{
    // A 303 names the sites of derived prefixes; anything else the sites of the handle's own.
    const std::string_view site_types[] = {prefix_referral ? "HS_SITE.PREFIX" : "HS_SITE",
                                           prefix_referral ? "HS_SITE.PREFIX" : "HS_SITE.6"};
    const std::string_view serv_type = prefix_referral ? "HS_SERV.PREFIX" : "HS_SERV";
    std::vector<wire::SiteInfo> sites;
    std::vector<std::string> services;
    for (const wire::HandleValue& v : values) {
        if (!(v.permissions & wire::perm::kPublicRead))
            continue;
        if (type_is(v.type, site_types[0]) || type_is(v.type, site_types[1])) {
            if (auto site = wire::decode_site_info(v.data); site.ok())
                sites.push_back(std::move(site.value()));
        } else if (type_is(v.type, serv_type)) {
            services.emplace_back(v.data.begin(), v.data.end());
        }
    }
    for (const std::string& serv : services) {
        auto more = service_sites(serv, w, depth + 1);
        sites.insert(sites.end(), std::make_move_iterator(more.begin()),
                     std::make_move_iterator(more.end()));
    }
    ipv4_first(sites);
    return sites;
}

std::vector<wire::SiteInfo> Recursor::service_sites(const std::string& service_handle, Walk& w,
                                                    std::uint32_t depth)
{
    const std::string key = upper_ascii(service_handle);
    if (key == "0.NA/0.NA")
        return root_sites_; // "use the global service"
    if (depth > options_.max_service_depth ||
        std::find(w.services.begin(), w.services.end(), key) != w.services.end())
        return {};
    w.services.push_back(key);
    // Service handles are located like prefixes, never with AT; the client's question resumes
    // with it afterwards.
    const bool authoritative = std::exchange(w.authoritative, false);
    Sites where = sites_for(service_handle, w);
    auto reply = where.state == Sites::State::Found
                     ? walk(service_handle, kServiceTypes, std::move(where.sites), w)
                     : Result<UpstreamReply, std::string>(Err(std::string("no service sites")));
    w.authoritative = authoritative;
    if (!reply.ok() || reply->header.response_code != kRcSuccess)
        return {};
    return sites_from_values(reply->body.resolution.values, false, w, depth);
}

} // namespace idpath::recursion
