// The recursion engine against fake Handle servers on loopback: root -> HS_SITE -> answer,
// prefix referrals, HS_SERV indirection, the site hash choosing among servers, UDP timeout
// falling back to TCP, 301 moving on to the next site, the recursion limit, and the caches.

#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/recursion/recursor.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "tests/unit/recursion/fake_server.hpp"

namespace idpath::recursion {
namespace {

using test::Canned;
using test::FakeServer;
using test::site_value;
using test::text_value;

constexpr std::uint32_t kNotFound = 100;

RecursionOptions options_for(const FakeServer& root)
{
    RecursionOptions o;
    o.roots.push_back(*socket::parse_endpoint("127.0.0.1", root.udp_port()));
    o.udp_timeout_ms = 200;
    o.udp_tries = 1;
    o.tcp_timeout_ms = 2000;
    return o;
}

/// The root's TCP port differs from its UDP one; roots are asked over UDP in these tests.
Canned not_found()
{
    return Canned{kNotFound, {}, ""};
}

std::vector<wire::HandleValue> decode_values(const Outcome& o)
{
    std::vector<wire::HandleValue> out;
    ByteReader r(o.values);
    for (std::uint32_t i = 0; i < o.value_count; ++i) {
        auto v = wire::decode_value(r);
        if (!v.ok())
            break;
        out.push_back(wire::to_owned(*v));
    }
    return out;
}

Canned answer_abc(const std::string& handle)
{
    if (Recursor::cache_key(handle) == "88.100.1/abc")
        return Canned{1, {text_value(1, "URL", "https://example.org/a", 600)}, ""};
    return not_found();
}

TEST(Recursor, RootSiteThenAnswer)
{
    FakeServer b(answer_abc);
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("88.100.1/abc");
    ASSERT_FALSE(o.failed()) << o.error;
    EXPECT_EQ(o.response_code, 1u);
    EXPECT_EQ(o.hops, 2u);
    EXPECT_FALSE(o.from_cache);
    EXPECT_EQ(o.ttl, 600u);
    const auto values = decode_values(o);
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(values[0].type, "URL");
    EXPECT_EQ(root.questions(), (std::vector<std::string>{"0.NA/88.100.1"}));
    EXPECT_EQ(b.questions(), (std::vector<std::string>{"88.100.1/abc"}));

    // Again: the answer cache. A sibling handle: the service cache, one question to b only.
    const Outcome again = r.resolve("88.100.1/abc");
    EXPECT_TRUE(again.from_cache);
    EXPECT_EQ(again.values, o.values);
    const Outcome sibling = r.resolve("88.100.1/other");
    EXPECT_EQ(sibling.response_code, kNotFound);
    EXPECT_EQ(root.questions().size(), 1u);
    EXPECT_EQ(b.questions().size(), 2u);
    EXPECT_EQ(r.counters().cache_hits.load(), 1u);
    EXPECT_EQ(r.counters().service_hits.load(), 1u);
    EXPECT_EQ(r.counters().upstream_udp.load(), 3u);
    EXPECT_EQ(r.counters().queries.load(), 3u);
}

TEST(Recursor, LowercasePrefixAsksTheUppercasedPrefixHandle)
{
    FakeServer b([](const std::string&) { return Canned{1, {text_value(1, "URL", "x")}, ""}; });
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.A")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    EXPECT_EQ(r.resolve("88.a/x").response_code, 1u);
    EXPECT_EQ(root.questions(), (std::vector<std::string>{"0.NA/88.A"}));
}

TEST(Recursor, PrefixReferralToSecondLevel)
{
    FakeServer b(answer_abc);
    FakeServer second([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    FakeServer root([&](const std::string& h) {
        if (h.starts_with("0.NA/88."))
            return Canned{303, {site_value(1, "HS_SITE.PREFIX", {second.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    std::vector<Hop> trace;
    const Outcome o = r.resolve_traced("88.100.1/abc", trace);
    ASSERT_FALSE(o.failed()) << o.error;
    EXPECT_EQ(o.response_code, 1u);
    EXPECT_EQ(o.hops, 3u);
    EXPECT_EQ(r.counters().referrals.load(), 1u);
    ASSERT_EQ(trace.size(), 3u);
    EXPECT_EQ(trace[0].response_code, 303u);
    EXPECT_EQ(trace[0].note, "prefix referral to 1 site");
    EXPECT_EQ(trace[1].question, "0.NA/88.100.1");
    EXPECT_EQ(trace[1].response_code, 1u);
    EXPECT_EQ(trace[2].question, "88.100.1/abc");
    EXPECT_TRUE(trace[2].reply.has_value());
}

TEST(Recursor, HsServIndirection)
{
    FakeServer b(answer_abc);
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {text_value(2, "HS_SERV", "0.SERV/88.100")}, ""};
        if (h == "0.SERV/88.100")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("88.100.1/abc");
    ASSERT_FALSE(o.failed()) << o.error;
    EXPECT_EQ(o.response_code, 1u);
    EXPECT_EQ(root.questions(), (std::vector<std::string>{"0.NA/88.100.1", "0.SERV/88.100"}));
}

TEST(Recursor, HsServLoopIsSuppressed)
{
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {text_value(2, "HS_SERV", "0.SERV/A")}, ""};
        if (h == "0.SERV/A")
            return Canned{1, {text_value(2, "HS_SERV", "0.SERV/A")}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("88.100.1/abc");
    EXPECT_TRUE(o.failed());
    EXPECT_EQ(root.questions().size(), 2u);
}

TEST(Recursor, TwoServerSiteHashPicksTheRightServer)
{
    // Each server answers only the handles that hash to it and 301 for the rest, as a
    // HANDLE.NET server of a multi-server site does.
    auto shard = [](std::int32_t mine) {
        return [mine](const std::string& h) {
            if (wire::server_number(h, wire::site::kHashByHandle, 2) != mine)
                return Canned{301, {}, "wrong server hash"};
            return Canned{1, {text_value(1, "URL", "from server " + std::to_string(mine))}, ""};
        };
    };
    FakeServer s0(shard(0));
    FakeServer s1(shard(1));
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.200")
            return Canned{1, {site_value(1, "HS_SITE", {s0.server(1), s1.server(2)})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    int seen[2] = {0, 0};
    for (int i = 0; i < 12; ++i) {
        const std::string h = "88.200/item-" + std::to_string(i);
        const Outcome o = r.resolve(h);
        ASSERT_EQ(o.response_code, 1u) << h << " " << o.error;
        const auto values = decode_values(o);
        ASSERT_EQ(values.size(), 1u);
        const std::int32_t n = wire::server_number(h, wire::site::kHashByHandle, 2);
        EXPECT_EQ(std::string(values[0].data.begin(), values[0].data.end()),
                  "from server " + std::to_string(n));
        ++seen[n];
    }
    EXPECT_GT(seen[0], 0);
    EXPECT_GT(seen[1], 0);
    EXPECT_EQ(s0.questions().size() + s1.questions().size(), 12u) << "no question to the wrong one";
}

TEST(Recursor, UdpTimeoutFallsBackToTcp)
{
    FakeServer b(answer_abc, /*udp_silent=*/true);
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    std::vector<Hop> trace;
    const Outcome o = r.resolve_traced("88.100.1/abc", trace);
    ASSERT_FALSE(o.failed()) << o.error;
    EXPECT_EQ(o.response_code, 1u);
    EXPECT_EQ(b.udp_queries.load(), 1);
    EXPECT_EQ(b.tcp_queries.load(), 1);
    EXPECT_EQ(r.counters().timeouts.load(), 1u);
    EXPECT_EQ(r.counters().upstream_tcp.load(), 1u);
    ASSERT_EQ(trace.size(), 3u);
    EXPECT_FALSE(trace[1].tcp);
    EXPECT_EQ(trace[1].response_code, 0u);
    EXPECT_TRUE(trace[1].note.starts_with("timeout")) << trace[1].note;
    EXPECT_TRUE(trace[2].tcp);
    EXPECT_EQ(trace[2].response_code, 1u);
}

TEST(Recursor, ConcurrentIdenticalQuestionsShareOneResolution)
{
    constexpr int kThreads = 6;
    FakeServer b([](const std::string& h) {
        // Slow enough that every thread asks while the first resolution is still running.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return answer_abc(h);
    });
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    RecursionOptions opts = options_for(root);
    opts.udp_timeout_ms = 2000;
    Recursor r(opts);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    std::vector<Outcome> results(kThreads);
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            results[static_cast<std::size_t>(i)] = r.resolve("88.100.1/abc");
        });
    for (auto& t : threads)
        t.join();
    for (const Outcome& o : results)
        EXPECT_EQ(o.response_code, 1u) << o.error;
    EXPECT_EQ(b.questions().size(), 1u);
    EXPECT_EQ(root.questions().size(), 1u);
    EXPECT_EQ(r.counters().coalesced.load() + r.counters().cache_hits.load(),
              static_cast<std::uint64_t>(kThreads - 1));
    EXPECT_GE(r.counters().coalesced.load(), 1u);
}

TEST(Recursor, Ipv4SitesAreTriedBeforeIpv6Ones)
{
    FakeServer b(answer_abc);
    wire::SiteServer v6 = b.server();
    // Not ::1, which HS_SITE cannot carry: its first 12 octets are zero, so it reads as IPv4.
    wire::parse_site_address("2001:db8::1", v6.address);
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{
                1, {site_value(2, "HS_SITE.6", {v6}), site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    std::vector<Hop> trace;
    const Outcome o = r.resolve_traced("88.100.1/abc", trace);
    EXPECT_EQ(o.response_code, 1u) << o.error;
    ASSERT_EQ(trace.size(), 2u);
    EXPECT_EQ(trace[1].server, "127.0.0.1:" + std::to_string(b.udp_port()));
}

TEST(Recursor, ServiceReferralIsFollowed)
{
    FakeServer b(answer_abc);
    FakeServer referrer([&](const std::string&) {
        return Canned{302, {site_value(1, "HS_SITE", {b.server()})}, ""};
    });
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {referrer.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("88.100.1/abc");
    EXPECT_EQ(o.response_code, 1u) << o.error;
    EXPECT_EQ(o.hops, 3u);
    EXPECT_EQ(referrer.questions(), (std::vector<std::string>{"88.100.1/abc"}));
    EXPECT_EQ(r.counters().referrals.load(), 1u);
}

TEST(Recursor, NotResponsibleMovesToTheNextSite)
{
    FakeServer wrong([](const std::string&) { return Canned{301, {}, "prefix not homed here"}; });
    FakeServer b(answer_abc);
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1,
                          {site_value(1, "HS_SITE", {wrong.server()}),
                           site_value(2, "HS_SITE", {b.server()})},
                          ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("88.100.1/abc");
    EXPECT_EQ(o.response_code, 1u) << o.error;
    EXPECT_EQ(wrong.questions().size(), 1u);
}

TEST(Recursor, RecursionLimit)
{
    // A root that refers every prefix handle back to itself.
    std::unique_ptr<FakeServer> root;
    root = std::make_unique<FakeServer>([&](const std::string&) {
        return Canned{303, {site_value(1, "HS_SITE.PREFIX", {root->server()})}, ""};
    });
    RecursionOptions opts = options_for(*root);
    opts.max_hops = 4;
    Recursor r(opts);
    const Outcome o = r.resolve("88.100.1/abc");
    EXPECT_TRUE(o.failed());
    EXPECT_EQ(o.response_code, 2u);
    EXPECT_NE(o.error.find("recursion limit"), std::string::npos) << o.error;
    EXPECT_EQ(o.hops, 4u);
    EXPECT_EQ(root->questions().size(), 4u);
    EXPECT_EQ(r.counters().errors.load(), 1u);
}

TEST(Recursor, NotFoundIsCachedForTheNegativeTtl)
{
    FakeServer b(answer_abc);
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    RecursionOptions opts = options_for(root);
    opts.negative_ttl = 30;
    Recursor r(opts);
    const Outcome o = r.resolve("88.100.1/missing");
    EXPECT_EQ(o.response_code, kNotFound);
    EXPECT_EQ(o.ttl, 30u);
    const Outcome again = r.resolve("88.100.1/missing");
    EXPECT_TRUE(again.from_cache);
    EXPECT_EQ(again.response_code, kNotFound);
    EXPECT_EQ(r.counters().negative_hits.load(), 1u);
    EXPECT_EQ(b.questions().size(), 1u);

    // negative_ttl 0: every question goes upstream.
    opts.negative_ttl = 0;
    Recursor off(opts);
    off.resolve("88.100.1/missing");
    off.resolve("88.100.1/missing");
    EXPECT_EQ(b.questions().size(), 3u);
}

TEST(Recursor, UnknownPrefixIsNotFound)
{
    FakeServer root([](const std::string&) { return not_found(); });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("88.999/x");
    EXPECT_FALSE(o.failed()) << o.error;
    EXPECT_EQ(o.response_code, kNotFound);
}

TEST(Recursor, ZeroTtlValuesAreNotCached)
{
    FakeServer b([](const std::string&) { return Canned{1, {text_value(1, "URL", "x", 0)}, ""}; });
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {b.server()})}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    EXPECT_EQ(r.resolve("88.100.1/a").response_code, 1u);
    EXPECT_FALSE(r.resolve("88.100.1/a").from_cache);
    EXPECT_EQ(b.questions().size(), 2u);
}

TEST(Recursor, PrefixHandlesGoToTheRoots)
{
    FakeServer root([](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {text_value(7, "DESC", "prefix")}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("0.NA/88.100.1");
    EXPECT_EQ(o.response_code, 1u);
    EXPECT_EQ(o.hops, 1u);
}

TEST(Recursor, NoReplyAtAllIsAnError)
{
    FakeServer root([](const std::string&) { return not_found(); }, /*udp_silent=*/true);
    RecursionOptions opts = options_for(root);
    opts.roots = {*socket::parse_endpoint("127.0.0.1", 1)}; // nothing listens on port 1
    Recursor r(opts);
    const Outcome o = r.resolve("88.100.1/abc");
    EXPECT_TRUE(o.failed());
    EXPECT_EQ(r.counters().errors.load(), 1u);
    EXPECT_NE(r.counters_json().find("\"errors\":1"), std::string::npos) << r.counters_json();
}

} // namespace
} // namespace idpath::recursion

namespace idpath::recursion {
namespace {

TEST(Recursor, CancelEndsResolutionsInFlightAndLaterOnes)
{
    // A root that never answers over UDP, asked with a timeout no test would wait for: the
    // resolution can only end early by being cancelled.
    FakeServer root([](const std::string&) { return not_found(); }, /*udp_silent=*/true);
    RecursionOptions opts = options_for(root);
    opts.udp_timeout_ms = 600000;
    opts.udp_tries = 3;
    Recursor r(opts);
    Outcome o;
    std::thread t([&] { o = r.resolve("88.100.1/abc"); });
    while (root.udp_queries.load() == 0) // the question is out: the engine is waiting for the reply
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    r.cancel();
    t.join();
    EXPECT_TRUE(o.failed());
    EXPECT_NE(o.error.find("cancelled"), std::string::npos) << o.error;
    EXPECT_EQ(r.counters().timeouts.load(), 0u);
    EXPECT_EQ(r.counters().upstream_tcp.load(), 0u); // no fallback to TCP once cancelled
    const Outcome later = r.resolve("88.100.1/other");
    EXPECT_TRUE(later.failed());
    EXPECT_NE(later.error.find("cancelled"), std::string::npos) << later.error;
}

} // namespace
} // namespace idpath::recursion

namespace idpath::recursion {
namespace {

Canned url_answer(const std::string& data)
{
    return Canned{1, {text_value(1, "URL", data, 600)}, ""};
}

bool has_at(std::uint32_t flags)
{
    return (flags & wire::opflag::kAuthoritative) != 0;
}

TEST(Recursor, AuthoritativeBypassesTheCacheAndAsksPrimariesWithAt)
{
    FakeServer mirror([](const std::string&) { return url_answer("from the mirror"); });
    FakeServer primary([](const std::string&) { return url_answer("from the primary"); });
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1") // the mirror's site first: any question but AT goes there
            return Canned{1,
                          {site_value(1, "HS_SITE", {mirror.server()}, wire::site::kHashByHandle, 86400, 0),
                           site_value(2, "HS_SITE", {primary.server()})},
                          ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const auto data = [](const Outcome& o) {
        const auto v = decode_values(o);
        return v.size() == 1 ? std::string(v[0].data.begin(), v[0].data.end()) : std::string("?");
    };
    EXPECT_EQ(data(r.resolve("88.100.1/abc")), "from the mirror");

    const Outcome at = r.resolve("88.100.1/abc", /*authoritative=*/true);
    ASSERT_FALSE(at.failed()) << at.error;
    EXPECT_FALSE(at.from_cache);
    EXPECT_EQ(data(at), "from the primary");
    ASSERT_EQ(primary.op_flags().size(), 1u);
    EXPECT_TRUE(has_at(primary.op_flags()[0]));
    EXPECT_EQ(mirror.questions().size(), 1u); // never asked with AT
    for (const std::uint32_t f : root.op_flags())
        EXPECT_FALSE(has_at(f)) << "the prefix's sites are located without AT";
    EXPECT_EQ(r.counters().authoritative.load(), 1u);

    // The fresh answer replaced the cached one.
    const Outcome after = r.resolve("88.100.1/abc");
    EXPECT_TRUE(after.from_cache);
    EXPECT_EQ(data(after), "from the primary");
}

TEST(Recursor, AuthoritativeWithNoPrimarySiteFails)
{
    FakeServer mirror([](const std::string&) { return url_answer("from the mirror"); });
    FakeServer root([&](const std::string& h) {
        if (h == "0.NA/88.100.1")
            return Canned{1, {site_value(1, "HS_SITE", {mirror.server()}, wire::site::kHashByHandle, 86400, 0)}, ""};
        return not_found();
    });
    Recursor r(options_for(root));
    const Outcome o = r.resolve("88.100.1/abc", true);
    EXPECT_TRUE(o.failed());
    EXPECT_NE(o.error.find("no primary site"), std::string::npos) << o.error;
    EXPECT_TRUE(mirror.questions().empty());
}

} // namespace
} // namespace idpath::recursion
